import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { z } from "zod";
import { incidentResolver } from "@driftwatch/core/incidents/resolve-on-return";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DetectorPool } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { CachedThresholds } from "@driftwatch/core/thresholds/cached-thresholds";
import { DynamoDeviceRegistry } from "../adapters/dynamo-device-registry.ts";
import { DynamoMetricsStore } from "../adapters/dynamo-metrics-store.ts";
import { DynamoThresholdsStore } from "../adapters/dynamo-thresholds-store.ts";
import { createDynamoIncidentStore } from "../adapters/dynamo-incident-store.ts";
import { FirehoseScoreArchive } from "../adapters/firehose-score-archive.ts";
import { S3CheckpointStore } from "../adapters/s3-checkpoint-store.ts";
import { SfnEscalationStarter } from "../adapters/sfn-escalation-starter.ts";
import { createSfnTaskTokens } from "../adapters/sfn-task-tokens.ts";
import { tracedClient } from "../shared/aws-client.ts";
import { optional, positiveInt, readConfig, required, seconds } from "../shared/config.ts";
import { logger } from "../shared/observability.ts";
import { createAwsPrivacy } from "../shared/privacy.ts";
import { tables } from "../shared/tables.ts";
import type { ScoreHandlerDeps } from "./score.ts";

/**
 * Composition of the scoring function group on AWS: every client once per cold start (traced) and the adapters of
 * `WindowScorer`'s ports, built on the first invocation. Local mode passes its own deps to `createScoreHandler`,
 * so these clients are never constructed there.
 */
const dynamo = tracedClient(() => new DynamoDBClient({}));
const kms = tracedClient(() => new KMSClient({}));
const s3 = tracedClient(() => new S3Client({}));
const sfn = tracedClient(() => new SFNClient({}));
const firehose = tracedClient(() => new FirehoseClient({}));

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
  // Silence incidents resolve themselves when the device reports again (ADR 0606): the incidents table and the
  // escalation's acknowledgement wait (SendTaskSuccess), as the escalation functions use them.
  const incidentsTable = readConfig({ [tables.incidents.envVar]: required() }, env)[tables.incidents.envVar];
  const privacy = await createAwsPrivacy({ vault: false, env, dynamo: dynamo(), kms: kms() });
  const checkpoints = new S3CheckpointStore(
    s3(),
    config.CHECKPOINT_BUCKET,
    config.CHECKPOINT_PREFIX ?? "checkpoints/",
  );
  return {
    preparer: createReadingPreparer({
      registry: new DynamoDeviceRegistry(dynamo(), config.DEVICES_TABLE),
      deidentifier: privacy.deidentifier,
    }),
    detectors: new DetectorPool(rcfDetectorFactory(), checkpoints, systemClock, {
      onRestoreFailure: (key, error) =>
        logger.warn("model checkpoint unreadable, starting a fresh model", {
          detectorKey: key,
          error: (error as Error).name,
        }),
    }),
    thresholds: new CachedThresholds(
      new DynamoThresholdsStore(dynamo(), config.THRESHOLDS_TABLE, (scope) =>
        logger.warn("invalid threshold rule ignored", { scope }),
      ),
      systemClock,
      { ttlMs: config.THRESHOLDS_CACHE_SECONDS * 1000 },
    ),
    escalation: new SfnEscalationStarter(sfn(), config.ESCALATION_STATE_MACHINE_ARN),
    metrics: new DynamoMetricsStore(dynamo(), config.METRICS_TABLE, {
      ttlSeconds: config.METRICS_TTL_DAYS * 86_400,
    }),
    archive: new FirehoseScoreArchive(firehose(), config.SCORES_DELIVERY_STREAM),
    checkpoints,
    clock: systemClock,
    incidents: incidentResolver({
      store: createDynamoIncidentStore(dynamo(), incidentsTable),
      tokens: createSfnTaskTokens(sfn()),
      clock: systemClock,
    }),
    options: {
      windowMs: config.WINDOW_SECONDS * 1000,
      silenceWindows: config.SILENCE_WINDOWS,
      metricsTtlSeconds: config.METRICS_TTL_DAYS * 86_400,
      stateBudgetBytes: config.STATE_BUDGET_BYTES,
    },
  };
}
