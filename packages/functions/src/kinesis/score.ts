import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import middy from "@middy/core";
import { z } from "zod";
import type { Context, KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from "aws-lambda";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DetectorPool } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import {
  WindowScorer,
  type ScoringObserver,
  type WindowScorerDeps,
} from "@driftwatch/core/scoring/window-scorer";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { CachedThresholds } from "@driftwatch/core/thresholds/cached-thresholds";
import { parseWindow } from "@driftwatch/core/window/window-time";
import { DynamoDeviceRegistry } from "../adapters/dynamo-device-registry.ts";
import { DynamoMetricsStore } from "../adapters/dynamo-metrics-store.ts";
import { DynamoThresholdsStore } from "../adapters/dynamo-thresholds-store.ts";
import { FirehoseScoreArchive } from "../adapters/firehose-score-archive.ts";
import { S3CheckpointStore } from "../adapters/s3-checkpoint-store.ts";
import { SfnEscalationStarter } from "../adapters/sfn-escalation-starter.ts";
import { lazy, optional, positiveInt, readConfig, required, seconds } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { createAwsPrivacy } from "../shared/privacy.ts";

/**
 * The scoring Lambda: Kinesis `telemetry` → tumbling-window event source mapping → this handler.
 * Everything but the Lambda event mapping lives in core's `WindowScorer`; local mode runs this same handler
 * (`createScoreHandler` with local adapters) under its event-source-mapping emulator.
 *
 * Response (tumbling windows): `{ state, batchItemFailures }`. A record that failed retryably is reported as the
 * only item failure; Lambda checkpoints before it and retries from it with the returned state, which holds
 * exactly the records before it. Bad input (a `ValidationError`) is counted and skipped (the ingest path already
 * wrote its error record). Throwing fails the whole invocation (Lambda retries, bisecting if configured).
 */
export type ScoreHandlerDeps = Omit<WindowScorerDeps, "observer">;

/** The tumbling-window event as Lambda sends it (`@types/aws-lambda` lacks `shardId` and `eventSourceARN`). */
export type ScoreEvent = KinesisStreamTumblingWindowEvent & { shardId?: string; eventSourceARN?: string };

const observer: ScoringObserver = {
  metric: (name, value, unit) => metrics.addMetric(name, MetricUnit[unit], value),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
};

export function createScoreHandler(
  getDeps: () => Promise<ScoreHandlerDeps>,
  options: { observer?: ScoringObserver } = {},
) {
  const scorer = lazy(
    async () => new WindowScorer({ ...(await getDeps()), observer: options.observer ?? observer }),
  );
  const handle = async (event: ScoreEvent, _context: Context): Promise<KinesisStreamStateResponse> => {
    const records = event.Records ?? [];
    const shardId = event.shardId ?? shardIdOf(records[0]?.eventID) ?? "shardId-unknown";
    const window = parseWindow(event.window);
    const result = await (
      await scorer()
    ).processBatch({
      shardId,
      window,
      state: event.state,
      isFinalInvokeForWindow: event.isFinalInvokeForWindow === true,
      isWindowTerminatedEarly: event.isWindowTerminatedEarly === true,
      records: records.map((r) => ({
        sequenceNumber: r.kinesis.sequenceNumber,
        partitionKey: r.kinesis.partitionKey,
        arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
        data: r.kinesis.data,
      })),
    });
    if (event.isFinalInvokeForWindow) {
      logger.info("window closed", {
        shardId,
        windowStart: event.window.start,
        partsWritten: result.summary.partsWritten,
        checkpoints: result.summary.checkpointsWritten,
        silenced: result.summary.silenced,
      });
    }
    return {
      state: result.state,
      batchItemFailures: result.failedSequenceNumber ? [{ itemIdentifier: result.failedSequenceNumber }] : [],
    };
  };
  return withObservability(middy(handle));
}

/** `shardId-000000000006:4959…` → `shardId-000000000006` (older events lack the top-level `shardId`). */
function shardIdOf(eventId: string | undefined): string | undefined {
  return eventId?.split(":")[0] || undefined;
}

/** AWS wiring, built on the first invocation (module import reads no configuration and creates no clients). */
export async function awsScoreDeps(env: NodeJS.ProcessEnv = process.env): Promise<ScoreHandlerDeps> {
  const config = readConfig(
    {
      DEVICES_TABLE: required(),
      METRICS_TABLE: required(),
      THRESHOLDS_TABLE: required(),
      CHECKPOINT_BUCKET: required(),
      CHECKPOINT_PREFIX: optional(),
      ESCALATION_STATE_MACHINE_ARN: required(),
      SCORES_DELIVERY_STREAM: required(),
      WINDOW_SECONDS: positiveInt(60),
      SILENCE_WINDOWS: z.coerce.number().int().nonnegative().default(3),
      METRICS_TTL_DAYS: positiveInt(30),
      THRESHOLDS_CACHE_SECONDS: seconds(30),
      STATE_BUDGET_BYTES: positiveInt(900 * 1024),
    },
    env,
  );
  const dynamo = new DynamoDBClient({});
  const privacy = await createAwsPrivacy({ vault: false, env, dynamo });
  const checkpoints = new S3CheckpointStore(
    new S3Client({}),
    config.CHECKPOINT_BUCKET,
    config.CHECKPOINT_PREFIX ?? "checkpoints/",
  );
  return {
    preparer: createReadingPreparer({
      registry: new DynamoDeviceRegistry(dynamo, config.DEVICES_TABLE),
      deidentifier: privacy.deidentifier,
    }),
    detectors: new DetectorPool(rcfDetectorFactory(), checkpoints, systemClock, (key, error) =>
      logger.warn("model checkpoint unreadable, starting a fresh model", {
        detectorKey: key,
        error: (error as Error).name,
      }),
    ),
    thresholds: new CachedThresholds(
      new DynamoThresholdsStore(dynamo, config.THRESHOLDS_TABLE, (scope) =>
        logger.warn("invalid threshold rule ignored", { scope }),
      ),
      systemClock,
      { ttlMs: config.THRESHOLDS_CACHE_SECONDS * 1000 },
    ),
    escalation: new SfnEscalationStarter(new SFNClient({}), config.ESCALATION_STATE_MACHINE_ARN),
    metrics: new DynamoMetricsStore(dynamo, config.METRICS_TABLE, {
      ttlSeconds: config.METRICS_TTL_DAYS * 86_400,
    }),
    archive: new FirehoseScoreArchive(new FirehoseClient({}), config.SCORES_DELIVERY_STREAM),
    checkpoints,
    clock: systemClock,
    options: {
      windowMs: config.WINDOW_SECONDS * 1000,
      silenceWindows: config.SILENCE_WINDOWS,
      metricsTtlSeconds: config.METRICS_TTL_DAYS * 86_400,
      stateBudgetBytes: config.STATE_BUDGET_BYTES,
    },
  };
}

export const handler = createScoreHandler(() => awsScoreDeps());
