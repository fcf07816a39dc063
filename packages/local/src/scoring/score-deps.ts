import path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { IncidentResolver } from "@driftwatch/core/incidents/resolve-on-return";
import type { EscalationStarter } from "@driftwatch/core/ports/escalation-starter";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DetectorPool } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import type { ScoringObserver } from "@driftwatch/core/scoring/window-scorer";
import { SCORING_METRICS } from "@driftwatch/core/shared/metric-names";
import { CachedRegistry } from "@driftwatch/core/telemetry/cached-registry";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { CachedThresholds } from "@driftwatch/core/thresholds/cached-thresholds";
import { DynamoMetricsStore } from "@driftwatch/functions/adapters/dynamo-metrics-store";
import { DynamoThresholdsStore } from "@driftwatch/functions/adapters/dynamo-thresholds-store";
import { createScoreHandler, type ScoreHandlerDeps } from "@driftwatch/functions/kinesis/score";
import { createPrivacy, readPhiCatalogue } from "@driftwatch/functions/shared/privacy";
import type { KinesisWindowHandler } from "./event-source-mapping.ts";
import { FileCheckpointStore } from "./file-checkpoint-store.ts";
import { FileScoreArchive } from "./file-score-archive.ts";
import type { StatusSink } from "./write-retry.ts";
import { BatchingDeviceRegistry, BatchingThresholdsStore } from "../storage/batching-readers.ts";

/** The scoring Lambda's settings as local mode reads them (`scoring/index.ts`). */
export interface LocalScoreSettings {
  dataDir: string;
  windowSeconds: number;
  silenceWindows: number;
  deviceNegativeCacheTtlSeconds: number;
  thresholdsCacheSeconds: number;
  tableNames: Record<string, string>;
  /** The HMAC key of identifier tokens (`LocalStorage.tokenKey`). */
  tokenKey: Uint8Array;
}

export interface LocalScoreHandler {
  /** `createScoreHandler` (the Lambda's own handler) over the local adapters. */
  handler: KinesisWindowHandler;
  /** Drops cached devices (after an import through the local API). */
  invalidateDevices(deviceIds: readonly string[]): void;
  /** Drops cached threshold rules (after an edit through the local API). */
  clearThresholds(): void;
}

/**
 * Builds the scoring handler of local mode: the SAME handler as the Lambda (`createScoreHandler`) with local
 * adapters — the DynamoDB adapters on dynalite (registry, metrics, thresholds; the caches the Lambda keeps too),
 * checkpoints under `$DATA_DIR/checkpoints/`, the scores archive under `$DATA_DIR/lake/scores/`. Called on the
 * main thread (`DRIFTWATCH_SCORING_THREAD=main`) or in the scoring worker (`score-worker.ts`, the default), with
 * a DynamoDB client of that thread; escalation, incidents, status and logs are whatever the caller passes (in the
 * worker: messages to the main thread).
 */
export function createLocalScoreHandler(options: {
  settings: LocalScoreSettings;
  dynamo: DynamoDBClient;
  escalation: EscalationStarter;
  incidents: IncidentResolver;
  status: StatusSink;
  log: (message: string) => void;
}): LocalScoreHandler {
  const { settings, dynamo, status, log } = options;
  const writeRetry = { status, log };
  const checkpoints = new FileCheckpointStore(path.join(settings.dataDir, "checkpoints"), writeRetry);
  const privacy = createPrivacy({ catalogue: readPhiCatalogue(), tokenKey: settings.tokenKey });
  // The Lambda's caches, over readers that merge concurrent lookups into BatchGetItem (`batching-readers.ts`).
  const registry = new CachedRegistry(new BatchingDeviceRegistry(dynamo, settings.tableNames.DEVICES_TABLE), {
    negativeTtlMs: settings.deviceNegativeCacheTtlSeconds * 1000,
  });
  const thresholds = new CachedThresholds(
    new BatchingThresholdsStore(
      new DynamoThresholdsStore(dynamo, settings.tableNames.THRESHOLDS_TABLE, (scope) =>
        log(`invalid threshold rule ignored: ${scope}`),
      ),
    ),
    systemClock,
    { ttlMs: settings.thresholdsCacheSeconds * 1000 },
  );
  const deps: ScoreHandlerDeps = {
    preparer: createReadingPreparer({ registry, deidentifier: privacy.deidentifier }),
    detectors: new DetectorPool(rcfDetectorFactory(), checkpoints, systemClock, {
      onRestoreFailure: (key, error) =>
        log(`checkpoint of ${key} unreadable (${(error as Error).name}); starting a fresh model`),
    }),
    thresholds,
    escalation: options.escalation,
    metrics: new DynamoMetricsStore(dynamo, settings.tableNames.METRICS_TABLE),
    archive: new FileScoreArchive(path.join(settings.dataDir, "lake"), writeRetry),
    checkpoints,
    clock: systemClock,
    incidents: options.incidents,
    options: { windowMs: settings.windowSeconds * 1000, silenceWindows: settings.silenceWindows },
  };
  const observer: ScoringObserver = {
    metric(name, value) {
      if (name === SCORING_METRICS.recordsScored) status.inc("scoring.records", value);
      else if (name === SCORING_METRICS.anomalousRecords) status.inc("scoring.anomalies", value);
      else if (name === SCORING_METRICS.recordsSkippedInvalid) status.inc("scoring.rejected", value);
      else if (name === SCORING_METRICS.escalationsStarted) status.inc("scoring.escalations", value);
      else if (name === SCORING_METRICS.partialFlushes) status.inc("scoring.flushes", value);
    },
    warn: (message, fields) => log(`${message} ${JSON.stringify(fields ?? {})}`),
  };
  // The same handler as the Lambda; only the event source and the adapters are local.
  const lambdaHandler = createScoreHandler(async () => deps, { observer });
  return {
    handler: async (event, lambdaContext) => {
      await warmCaches(event, registry, thresholds);
      return lambdaHandler(event as never, lambdaContext);
    },
    invalidateDevices: (ids) => ids.forEach((id) => registry.invalidate(id)),
    clearThresholds: () => thresholds.clear(),
  };
}

/**
 * Loads, concurrently, what the handler will look up one record after another: the registry entry and the
 * thresholds (scorer only) of every device (partition key) in the batch that the caches do not hold. The caches and their TTLs
 * are the Lambda's; only the loading overlaps. Without it a batch of 500 devices after a start, or after the
 * thresholds' TTL ran out for all of them together, waited for ~1,000 sequential DynamoDB round trips (issue 13:
 * the first invocation took ~18 s at 2,000 msg/s from 500 devices). A failed lookup is left to the handler, which
 * meets it again and handles it as it does on AWS.
 */
export async function warmCaches(
  event: Record<string, unknown>,
  registry: CachedRegistry,
  thresholds?: CachedThresholds,
): Promise<void> {
  const records = (event.Records as { kinesis?: { partitionKey?: string } }[] | undefined) ?? [];
  if (records.length === 0) return;
  const ids = new Set<string>();
  for (const record of records) if (record.kinesis?.partitionKey) ids.add(record.kinesis.partitionKey);
  await Promise.all(
    [...ids].map((id) =>
      registry
        .get(id)
        .then((device) => (device && thresholds ? thresholds.resolve(device) : undefined))
        .catch(() => undefined),
    ),
  );
}
