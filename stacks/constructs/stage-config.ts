import { isProductionStage } from "./app-defaults.ts";

/**
 * Per-stage sizing of the ingest path. Production is sized for sustained traffic and keeps data longer;
 * every other stage (personal `sst dev` stages, CI previews) is small and cheap.
 */
export interface StageConfig {
  kinesis: {
    /** On-demand scales without resharding; provisioned with one shard is the cheapest for a personal stage. */
    mode: "on-demand" | "provisioned";
    /** Only for `provisioned`. */
    shardCount: number;
    /** Kinesis retention in hours (24 minimum, 168 gives a week to replay after a scoring outage). */
    retentionHours: number;
  };
  firehose: {
    /** Destination buffer interval (Firehose allows 0–900 s). */
    bufferSeconds: number;
    /** Destination buffer size; dynamic partitioning requires at least 64 MiB. */
    bufferMiB: number;
    /** Transformation Lambda buffer (Firehose allows 0.2–3 MiB, 0–900 s). */
    processorBufferMiB: number;
    processorBufferSeconds: number;
    /** How many times Firehose retries a failed transformation invocation before writing to the error prefix. */
    processorRetries: number;
    /** How long Firehose retries a failed dynamic-partitioning delivery (0–7200 s). */
    partitioningRetrySeconds: number;
  };
  lake: {
    /** Days until `raw/` objects (original payloads) expire. */
    rawExpirationDays: number;
    /** Days until `errors/` objects expire. */
    errorsExpirationDays: number;
    /** Days until `readings/` move to Infrequent Access. */
    readingsInfrequentAccessDays: number;
    /** Days until noncurrent object versions expire. */
    noncurrentVersionExpirationDays: number;
  };
  /** CloudWatch Logs retention of the ingest log groups, in days. */
  logRetentionDays: number;
}

export function stageConfig(stage: string): StageConfig {
  const production = isProductionStage(stage);
  return {
    kinesis: production
      ? { mode: "on-demand", shardCount: 0, retentionHours: 168 }
      : { mode: "provisioned", shardCount: 1, retentionHours: 24 },
    firehose: {
      bufferSeconds: production ? 300 : 60,
      bufferMiB: 64,
      processorBufferMiB: 1,
      processorBufferSeconds: 60,
      processorRetries: 3,
      partitioningRetrySeconds: 300,
    },
    lake: production
      ? {
          rawExpirationDays: 365,
          errorsExpirationDays: 90,
          readingsInfrequentAccessDays: 30,
          noncurrentVersionExpirationDays: 30,
        }
      : {
          rawExpirationDays: 30,
          errorsExpirationDays: 30,
          readingsInfrequentAccessDays: 30,
          noncurrentVersionExpirationDays: 7,
        },
    logRetentionDays: production ? 365 : 30,
  };
}
