import path from "node:path";
import type { Alert } from "@driftwatch/core/alerts/alert";
import { incidentResolver, type IncidentResolver } from "@driftwatch/core/incidents/resolve-on-return";
import type { EscalationStarter } from "@driftwatch/core/ports/escalation-starter";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DetectorPool } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import type { ScoringObserver } from "@driftwatch/core/scoring/window-scorer";
import { windowTickEnvelope } from "@driftwatch/core/scoring/window-tick";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { SCORING_METRICS } from "@driftwatch/core/shared/metric-names";
import { CachedRegistry } from "@driftwatch/core/telemetry/cached-registry";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { CachedThresholds } from "@driftwatch/core/thresholds/cached-thresholds";
import { DynamoDeviceRegistry } from "@driftwatch/functions/adapters/dynamo-device-registry";
import { DynamoMetricsStore } from "@driftwatch/functions/adapters/dynamo-metrics-store";
import { DynamoThresholdsStore } from "@driftwatch/functions/adapters/dynamo-thresholds-store";
import { createScoreHandler, type ScoreHandlerDeps } from "@driftwatch/functions/kinesis/score";
import { readConfig, seconds, positiveInt } from "@driftwatch/functions/shared/config";
import { createPrivacy, readPhiCatalogue } from "@driftwatch/functions/shared/privacy";
import { z } from "zod";
import type { LocalContext, LocalService } from "../runtime/context.ts";
import { createLambdaContext } from "../runtime/lambda-context.ts";
import { EventSourceMappingEmulator, type KinesisWindowHandler } from "./event-source-mapping.ts";
import { FileCheckpointStore } from "./file-checkpoint-store.ts";
import { FileScoreArchive } from "./file-score-archive.ts";
import { removeTemporaryFiles } from "./write-retry.ts";
import { LocalKinesisStream } from "./local-stream.ts";
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
 * (500), `DRIFTWATCH_SCORING_BATCHING_WINDOW_MS` (250), `DRIFTWATCH_SCORING_RETRIES` (3),
 * `DRIFTWATCH_SCORING_MAX_RECORD_AGE_SECONDS` (3600), `DRIFTWATCH_SILENCE_WINDOWS` (3), `THRESHOLDS_CACHE_SECONDS`
 * (30, as the scoring Lambda).
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
    DRIFTWATCH_SCORING_BATCH_SIZE: positiveInt(500),
    DRIFTWATCH_SCORING_BATCHING_WINDOW_MS: seconds(250),
    DRIFTWATCH_SCORING_RETRIES: z.coerce.number().int().nonnegative().default(3),
    DRIFTWATCH_SCORING_MAX_RECORD_AGE_SECONDS: positiveInt(3600),
    DRIFTWATCH_SILENCE_WINDOWS: z.coerce.number().int().nonnegative().default(3),
    DEVICE_NEGATIVE_CACHE_TTL_SECONDS: seconds(5),
    // As the scoring Lambda (functions/kinesis/deps.ts): 30 s. Edits through the local API clear it at once.
    THRESHOLDS_CACHE_SECONDS: seconds(30),
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
  const writeRetry = { status, log: (message: string) => context.log("scoring", message) };
  await removeTemporaryFiles(path.join(config.dataDir, "checkpoints"));
  await removeTemporaryFiles(path.join(config.dataDir, "lake", "scores"));
  const checkpoints = new FileCheckpointStore(path.join(config.dataDir, "checkpoints"), writeRetry);
  const privacy = createPrivacy({ catalogue: readPhiCatalogue(), tokenKey: storage.tokenKey });
  const registry = new CachedRegistry(
    new DynamoDeviceRegistry(storage.dynamo, storage.tableNames.DEVICES_TABLE),
    {
      negativeTtlMs: settings.DEVICE_NEGATIVE_CACHE_TTL_SECONDS * 1000,
    },
  );
  storage.onDevicesImported((ids) => ids.forEach((id) => registry.invalidate(id)));
  const metricsStore = new DynamoMetricsStore(storage.dynamo, storage.tableNames.METRICS_TABLE);
  const thresholdsStore = new DynamoThresholdsStore(
    storage.dynamo,
    storage.tableNames.THRESHOLDS_TABLE,
    (scope) => context.log("scoring", `invalid threshold rule ignored: ${scope}`),
  );
  const thresholds = new CachedThresholds(thresholdsStore, systemClock, {
    ttlMs: settings.THRESHOLDS_CACHE_SECONDS * 1000,
  });
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
  const deps: ScoreHandlerDeps = {
    preparer: createReadingPreparer({ registry, deidentifier: privacy.deidentifier }),
    detectors: new DetectorPool(rcfDetectorFactory(), checkpoints, systemClock, (key, error) =>
      context.log(
        "scoring",
        `checkpoint of ${key} unreadable (${(error as Error).name}); starting a fresh model`,
      ),
    ),
    thresholds,
    escalation,
    metrics: metricsStore,
    archive: new FileScoreArchive(path.join(config.dataDir, "lake"), writeRetry),
    checkpoints,
    clock: systemClock,
    incidents,
    options: { windowMs: config.windowSeconds * 1000, silenceWindows: settings.DRIFTWATCH_SILENCE_WINDOWS },
  };
  const observer: ScoringObserver = {
    metric(name, value) {
      if (name === SCORING_METRICS.recordsScored) status.inc("scoring.records", value);
      else if (name === SCORING_METRICS.anomalousRecords) status.inc("scoring.anomalies", value);
      else if (name === SCORING_METRICS.recordsSkippedInvalid) status.inc("scoring.rejected", value);
      else if (name === SCORING_METRICS.escalationsStarted) status.inc("scoring.escalations", value);
      else if (name === SCORING_METRICS.partialFlushes) status.inc("scoring.flushes", value);
    },
    warn: (message, fields) => context.log("scoring", `${message} ${JSON.stringify(fields ?? {})}`),
  };
  // The same handler as the Lambda; only the event source and the adapters are local.
  const lambdaHandler = createScoreHandler(async () => deps, { observer });
  const base: KinesisWindowHandler = async (event, lambdaContext) =>
    lambdaHandler(event as never, lambdaContext);
  const handler = options.wrapHandler ? options.wrapHandler(base) : base;

  const mapping = new EventSourceMappingEmulator({
    stream,
    handler,
    createContext: () =>
      createLambdaContext({
        functionName: "driftwatch-local-score",
        timeoutMs: 300_000,
        memoryLimitInMB: 1769,
      }),
    timeoutMs: 300_000,
    stateDir: path.join(config.dataDir, "checkpoints", "esm"),
    dlqDir: path.join(config.dataDir, "dlq"),
    windowSeconds: config.windowSeconds,
    batchSize: settings.DRIFTWATCH_SCORING_BATCH_SIZE,
    batchingWindowMs: settings.DRIFTWATCH_SCORING_BATCHING_WINDOW_MS,
    retryAttempts: settings.DRIFTWATCH_SCORING_RETRIES,
    maxRecordAgeSeconds: settings.DRIFTWATCH_SCORING_MAX_RECORD_AGE_SECONDS,
    bisectBatchOnError: true,
    log: (message) => context.log("esm", message),
    onInvoke: (info) => {
      if (info.final && info.ok) status.inc("scoring.windows");
      if (!info.ok) status.inc("scoring.failedInvocations");
    },
  });

  context.ruleTargets.push({
    name: "kinesis:telemetry",
    async deliver(envelope, partitionKey) {
      // Backpressure (ADR 0604): above the backlog limit the action waits for the consumers, and so does the
      // publisher's PUBACK, instead of the stream holding an unbounded backlog in memory.
      await stream.whenBacklogBelow(settings.DRIFTWATCH_KINESIS_MAX_BACKLOG);
      // Group commit: the records of one event-loop turn are sealed and written together.
      await stream.putQueued(partitionKey, Buffer.from(JSON.stringify(envelope), "utf8"));
      status.inc("kinesis.records");
    },
  });
  // Threshold edits through the API apply at once (the mounted thresholds handler calls this).
  (context.thresholdsChanged ??= []).push(() => thresholds.clear());
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
      stream.close();
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
