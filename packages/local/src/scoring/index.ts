import os from "node:os";
import path from "node:path";
import type { Alert } from "@driftwatch/core/alerts/alert";
import { incidentResolver, type IncidentResolver } from "@driftwatch/core/incidents/resolve-on-return";
import type { EscalationStarter } from "@driftwatch/core/ports/escalation-starter";
import { systemClock } from "@driftwatch/core/ports/clock";
import { windowTickEnvelope } from "@driftwatch/core/scoring/window-tick";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import type { Envelope } from "@driftwatch/core/telemetry/envelope";
import { readConfig, seconds, positiveInt } from "@driftwatch/functions/shared/config";
import { z } from "zod";
import type { LocalContext, LocalService, RuleTarget } from "../runtime/context.ts";
import type { StatusBoard } from "../runtime/status-board.ts";
import { createLambdaContext, LOCAL_REGION } from "../runtime/lambda-context.ts";
import { EventSourceMappingEmulator, type KinesisWindowHandler } from "./event-source-mapping.ts";
import { removeTemporaryFiles } from "./write-retry.ts";
import { LocalKinesisStream } from "./local-stream.ts";
import { createLocalScoreHandler, type LocalScoreSettings } from "./score-deps.ts";
import { startScoreWorkers, type ScoreWorkerPool } from "./score-worker-client.ts";
import { createZoneCipher } from "../storage/zone-cipher.ts";
import { LAKE_CONSUMER, localLakeFeed } from "../ingest/stream-lake.ts";

export interface LocalScoringService extends LocalService {
  stream: LocalKinesisStream;
  mapping: EventSourceMappingEmulator;
  /** Resolves when everything put so far is scored and every ended window is closed. */
  drained(timeoutMs?: number): Promise<void>;
}

export interface ScoringServiceOptions {
  /** Wraps the handler (fault injection in tests); the handler itself runs unchanged. */
  wrapHandler?: (handler: KinesisWindowHandler) => KinesisWindowHandler;
}

/**
 * Local scoring: the `telemetry` Kinesis stream (in-process, durable under `$DATA_DIR/kinesis/`), registered as a
 * rule target, and the event source mapping emulator invoking the SAME scoring handler as on AWS
 * (`createScoreHandler`) with local adapters: the DynamoDB adapters on dynalite (registry, metrics, thresholds),
 * checkpoints under `$DATA_DIR/checkpoints/`, the scores archive under `$DATA_DIR/lake/scores/`, and the
 * escalation starter of the escalation service (or a logging one when it is not running).
 *
 * Environment: `DRIFTWATCH_WINDOW_SECONDS` (via config), `DRIFTWATCH_KINESIS_SHARDS` (1),
 * `DRIFTWATCH_KINESIS_MAX_BACKLOG` (50,000 records held unacknowledged before the rule's action waits), `DRIFTWATCH_SCORING_BATCH_SIZE`
 * (1,000, as the stage), `DRIFTWATCH_SCORING_BATCHING_WINDOW_MS` (250), `DRIFTWATCH_SCORING_RETRIES` (3),
 * `DRIFTWATCH_SCORING_MAX_RECORD_AGE_SECONDS` (3600), `DRIFTWATCH_SILENCE_WINDOWS` (3), `THRESHOLDS_CACHE_SECONDS`
 * (30, as the scoring Lambda), `DRIFTWATCH_SCORING_THREAD` (`worker`, the default: the handler runs in scoring
 * worker threads, ADR 0604; `main`: on the main thread — better only when other work already fills the cores),
 * `DRIFTWATCH_SCORING_WORKERS` (at most this many workers, shard i in worker i mod n; default: CPUs − 1, at least 1).
 */
export async function startScoring(
  context: LocalContext,
  options: ScoringServiceOptions = {},
): Promise<LocalScoringService> {
  const { config, status } = context;
  const storage = context.storage;
  if (!storage)
    throw new ConfigurationError("the scoring service needs the storage service to be started first");
  const settings = readConfig({
    DRIFTWATCH_KINESIS_SHARDS: positiveInt(1),
    DRIFTWATCH_KINESIS_MAX_BACKLOG: positiveInt(50_000),
    // The stage's batch size (stacks/constructs/scoring-config.ts: 1,000; issue 13: was 500 locally, which doubled
    // the per-invocation work — window state across the thread boundary and into the checkpoint — at high rates).
    DRIFTWATCH_SCORING_BATCH_SIZE: positiveInt(1000),
    DRIFTWATCH_SCORING_BATCHING_WINDOW_MS: seconds(250),
    DRIFTWATCH_SCORING_RETRIES: z.coerce.number().int().nonnegative().default(3),
    DRIFTWATCH_SCORING_MAX_RECORD_AGE_SECONDS: positiveInt(3600),
    DRIFTWATCH_SILENCE_WINDOWS: z.coerce.number().int().nonnegative().default(3),
    DEVICE_NEGATIVE_CACHE_TTL_SECONDS: seconds(5),
    // As the scoring Lambda (functions/kinesis/deps.ts): 30 s. Edits through the local API clear it at once.
    THRESHOLDS_CACHE_SECONDS: seconds(30),
    DRIFTWATCH_SCORING_THREAD: z.enum(["worker", "main"]).default("worker"),
    DRIFTWATCH_SCORING_WORKERS: positiveInt(Math.max(1, os.availableParallelism() - 1)),
  });

  const stream = new LocalKinesisStream({
    dir: path.join(config.dataDir, "kinesis", "telemetry"),
    streamName: "driftwatch-local-telemetry",
    shardCount: settings.DRIFTWATCH_KINESIS_SHARDS,
    // The telemetry stream is KMS-encrypted on AWS; locally its log is sealed with the stream's own key.
    cipher: createZoneCipher(storage.keysDir, "stream"),
  });
  // The stream-fed lake writer (ingest service, started later) reads this stream too: records stay until it has
  // acknowledged them as well.
  if (localLakeFeed() === "stream") stream.registerConsumer(LAKE_CONSUMER);
  context.telemetryStream = stream;
  // Failed writes are retried while running (status line: "N batches waiting (retrying)"); temporary files a
  // killed process left are removed first.
  await removeTemporaryFiles(path.join(config.dataDir, "checkpoints"));
  await removeTemporaryFiles(path.join(config.dataDir, "lake", "scores"));
  const scoreSettings: LocalScoreSettings = {
    dataDir: config.dataDir,
    windowSeconds: config.windowSeconds,
    silenceWindows: settings.DRIFTWATCH_SILENCE_WINDOWS,
    deviceNegativeCacheTtlSeconds: settings.DEVICE_NEGATIVE_CACHE_TTL_SECONDS,
    thresholdsCacheSeconds: settings.THRESHOLDS_CACHE_SECONDS,
    tableNames: storage.tableNames,
    tokenKey: storage.tokenKey,
  };
  const fallbackStarted = new Set<string>();
  const escalation: EscalationStarter = {
    // Resolved per call: the escalation service may publish its starter after this service started.
    start: async (alert: Alert, name: string) => {
      if (context.escalationStarter) return context.escalationStarter.start(alert, name);
      if (fallbackStarted.has(name)) return { started: false };
      fallbackStarted.add(name);
      context.log(
        "scoring",
        `alert ${name}: ${alert.rule} on ${alert.deviceId} (no escalation service running)`,
      );
      return { started: true };
    },
  };
  // A silence incident resolves itself when its device reports again (resolved per call, like the starter).
  const incidents: IncidentResolver = {
    resolveActive: async (subject, rule, detail) =>
      context.incidents
        ? incidentResolver({ ...context.incidents, clock: systemClock }).resolveActive(subject, rule, detail)
        : { resolved: false },
  };
  const lambda = { functionName: "driftwatch-local-score", timeoutMs: 300_000, memoryLimitInMB: 1769 };
  // Where the handler runs (ADR 0604): in scoring worker threads (default), so the scorer uses another core than
  // the rule routing, the stream, the lake writer and dynalite; or on the main thread.
  const workers =
    settings.DRIFTWATCH_SCORING_THREAD === "worker"
      ? startScoreWorkers({
          workers: Math.min(stream.shardIds.length, settings.DRIFTWATCH_SCORING_WORKERS),
          shardIds: stream.shardIds,
          data: {
            settings: scoreSettings,
            dynamoEndpoint: storage.dynamoEndpoint,
            region: LOCAL_REGION,
            lambda,
            logLevel: process.env.POWERTOOLS_LOG_LEVEL || "INFO",
            metrics: process.env.DRIFTWATCH_LOCAL_METRICS === "log" ? "sink" : "off",
          },
          escalation,
          incidents,
          status,
          log: (component, message) => context.log(component, message),
        })
      : undefined;
  // Local mode is up once the scorer is: the workers' module loading is not left to the first records.
  if (workers) {
    try {
      await workers.ready;
    } catch (error) {
      await workers.stop();
      stream.close();
      throw error;
    }
  }
  const scoring: Omit<ScoreWorkerPool, "stop" | "ready"> =
    workers ??
    createLocalScoreHandler({
      settings: scoreSettings,
      dynamo: storage.dynamo,
      escalation,
      incidents,
      status,
      log: (message) => context.log("scoring", message),
    });
  storage.onDevicesImported((ids) => scoring.invalidateDevices(ids));
  const base: KinesisWindowHandler = scoring.handler;
  const handler = options.wrapHandler ? options.wrapHandler(base) : base;

  const slowestMs = new Map<string, number>();
  const mapping = new EventSourceMappingEmulator({
    stream,
    handler,
    createContext: () => createLambdaContext(lambda),
    timeoutMs: lambda.timeoutMs,
    stateDir: path.join(config.dataDir, "checkpoints", "esm"),
    dlqDir: path.join(config.dataDir, "dlq"),
    windowSeconds: config.windowSeconds,
    batchSize: settings.DRIFTWATCH_SCORING_BATCH_SIZE,
    batchingWindowMs: settings.DRIFTWATCH_SCORING_BATCHING_WINDOW_MS,
    retryAttempts: settings.DRIFTWATCH_SCORING_RETRIES,
    maxRecordAgeSeconds: settings.DRIFTWATCH_SCORING_MAX_RECORD_AGE_SECONDS,
    bisectBatchOnError: true,
    // A scoring worker gets a copy of each event (postMessage); a wrapped or main-thread handler gets its own clone.
    handlerCopiesEvent: workers !== undefined && options.wrapHandler === undefined,
    log: (message) => context.log("esm", message),
    onInvoke: (info) => {
      if (info.final && info.ok) status.inc("scoring.windows");
      if (!info.ok) status.inc("scoring.failedInvocations");
      // The longest invocations so far (a window's final invoke writes its aggregates and checkpoints; issue 13).
      const slowest = info.final ? "scoring.finalInvokeMaxMs" : "scoring.invokeMaxMs";
      if (info.ok && info.ms > (slowestMs.get(slowest) ?? 0)) {
        slowestMs.set(slowest, info.ms);
        status.set(slowest, info.ms);
      }
    },
  });

  context.ruleTargets.push(kinesisRuleTarget(stream, settings.DRIFTWATCH_KINESIS_MAX_BACKLOG, status));
  // Threshold edits through the API apply at once (the mounted thresholds handler calls this).
  (context.thresholdsChanged ??= []).push(() => scoring.clearThresholds());
  status.inc("scoring.records", 0);
  status.inc("scoring.anomalies", 0);
  mapping.start();
  const stopTicks = startWindowTicks(stream, config.windowSeconds * 1000);
  context.log(
    "scoring",
    `telemetry stream with ${stream.shardIds.length} shard(s); tumbling window ${config.windowSeconds} s`,
  );

  return {
    name: "scoring",
    stream,
    mapping,
    drained: (timeoutMs) => mapping.drained(timeoutMs),
    async stop() {
      stopTicks();
      await mapping.stop();
      await workers?.stop();
      stream.close();
    },
  };
}

/**
 * The IoT rule's Kinesis action on the local telemetry stream (`kinesis:telemetry`): the envelope as JSON, keyed by
 * the device id. Backpressure (ADR 0604): above `maxBacklog` records held the action waits for the consumers, and
 * so does the publisher's PUBACK, instead of the stream holding an unbounded backlog in memory. Group commit: the
 * records of one event-loop turn are sealed and written together, and share one promise (`putQueuedShared`).
 */
export function kinesisRuleTarget(
  stream: LocalKinesisStream,
  maxBacklog: number,
  status?: StatusBoard,
): RuleTarget {
  const countRecord = () => status?.inc("kinesis.records");
  const put = (envelope: Envelope, partitionKey: string) =>
    stream.putQueuedShared(partitionKey, Buffer.from(JSON.stringify(envelope), "utf8")).then(countRecord);
  return {
    name: "kinesis:telemetry",
    deliver(envelope, partitionKey) {
      if (stream.backlog() < maxBacklog) return put(envelope, partitionKey);
      return stream.whenBacklogBelow(maxBacklog).then(() => put(envelope, partitionKey));
    },
  };
}

/**
 * Window ticks (ADR 0606), as a scheduled function does on AWS: a shard that has had no record for a whole window
 * gets a tick record, so its windows still close and the silence rule runs when a whole fleet stops publishing
 * (the event source mapping, like Lambda's, only invokes a shard that has records). The scorer skips ticks.
 */
function startWindowTicks(stream: LocalKinesisStream, windowMs: number): () => void {
  const lastPut = new Map<string, number>(stream.shardIds.map((id) => [id, Date.now()]));
  const unsubscribe = stream.onRecord((shardId) => lastPut.set(shardId, Date.now()));
  // One partition key per shard (MD5 ranges are fixed, so a few candidates cover every shard).
  const keys = new Map<string, string>();
  for (let i = 0; keys.size < stream.shardIds.length && i < 100_000; i++) {
    const key = `driftwatch-window-tick-${i}`;
    const shardId = stream.shardFor(key);
    if (!keys.has(shardId)) keys.set(shardId, key);
  }
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const [shardId, key] of keys) {
        if (now - (lastPut.get(shardId) ?? now) < windowMs) continue;
        stream.put(key, Buffer.from(JSON.stringify(windowTickEnvelope(now)), "utf8"));
      }
    },
    Math.max(250, Math.floor(windowMs / 2)),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
