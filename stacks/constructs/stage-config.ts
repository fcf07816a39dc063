import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { shardsForPeak } from "@driftwatch/core/cost/kinesis-shards";
import { isProductionStage } from "./app-defaults.ts";

/**
 * Per-stage sizing of the ingest path. Production is sized for sustained traffic and keeps data longer;
 * every other stage (personal `sst dev` stages, CI previews) is small and cheap.
 */
export interface StageConfig {
  ingest: {
    /**
     * AWS IoT Basic Ingest: devices publish to `$aws/rules/<rule name>/<topic>` (the stack outputs each rule's
     * prefix) and skip the message broker, so no IoT messaging charge (rules and actions are still billed). The
     * rules and their SQL are the same either way; the option decides what the stage's device policy lets devices
     * publish to. Off: the broker topics (watchable in the MQTT test client). ADR 1001, docs/deploy.md.
     */
    basicIngest: boolean;
    /**
     * How messages reach the lake (ADR 1001). `stream`: the IoT rules put only to the telemetry stream, and a
     * lake-writer Lambda consuming it writes readings/, errors/ and raw/ (no Firehose action, no 5 KB rounding);
     * the catch-all rules of unknown topics keep the Firehose stream. `firehose`: every rule also puts to Firehose,
     * whose transformation writes the lake (the former layout).
     */
    lakeFeed: "stream" | "firehose";
  };
  kinesis: {
    /** On-demand scales without resharding; provisioned with one shard is the cheapest for a personal stage. */
    mode: "on-demand" | "provisioned";
    /** Only for `provisioned`: sized from `peakRecordsPerSecond` (1,000 records/s and 1 MiB/s per shard). */
    shardCount: number;
    /** The peak the provisioned stream is sized for (records/s of `recordBytes`); above it, reshard by hand. */
    peakRecordsPerSecond: number;
    recordBytes: number;
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
    /** Lake writer (lake feed `stream`): records per batch (Lambda also caps a batch at 6 MB) … */
    writerBatchSize: number;
    /** … and the longest it gathers a batch: one object per zone, hour and shard per batch. */
    writerBatchingSeconds: number;
  };
  /** CloudWatch Logs retention of the ingest log groups, in days. */
  logRetentionDays: number;
}

/**
 * Per-stage cost options, read from `config/ingest.<stage>.json` (directory: `DRIFTWATCH_CONFIG_DIR`, as the
 * escalation settings) when the file exists; each field overrides the stage's default below.
 */
export const ingestOptionsSchema = z
  .object({
    basicIngest: z.boolean().optional(),
    lakeFeed: z.enum(["stream", "firehose"]).optional(),
    kinesis: z
      .object({
        mode: z.enum(["on-demand", "provisioned"]).optional(),
        peakRecordsPerSecond: z.number().positive().optional(),
        recordBytes: z
          .number()
          .int()
          .positive()
          .max(1024 * 1024)
          .optional(),
        retentionHours: z.number().int().min(24).max(8760).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type IngestOptions = z.infer<typeof ingestOptionsSchema>;

export function ingestOptions(stage: string, root = process.cwd()): IngestOptions {
  const dir = process.env.DRIFTWATCH_CONFIG_DIR || path.join(root, "config");
  const file = path.join(dir, `ingest.${stage}.json`);
  if (!fs.existsSync(file)) return {};
  const parsed = ingestOptionsSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

export function stageConfig(stage: string, options: IngestOptions = ingestOptions(stage)): StageConfig {
  const production = isProductionStage(stage);
  // Every stage: provisioned shards sized for the stated peak (production 1,000 records/s: one shard), 24 h
  // retention (ADR 1001: on-demand's stream hours alone cost more than an idle stage's whole budget). Above the peak,
  // resize: raise `peakRecordsPerSecond` in config/ingest.<stage>.json and deploy (UpdateShardCount), or choose
  // `"mode": "on-demand"` there.
  const mode = options.kinesis?.mode ?? "provisioned";
  const peakRecordsPerSecond = options.kinesis?.peakRecordsPerSecond ?? (production ? 1000 : 100);
  const recordBytes = options.kinesis?.recordBytes ?? 1024;
  return {
    // Production devices publish through Basic Ingest; personal stages keep the broker, so developers can
    // subscribe to their devices' topics in the MQTT test client.
    ingest: { basicIngest: options.basicIngest ?? production, lakeFeed: options.lakeFeed ?? "stream" },
    kinesis: {
      mode,
      shardCount: mode === "provisioned" ? shardsForPeak(peakRecordsPerSecond, recordBytes) : 0,
      peakRecordsPerSecond,
      recordBytes,
      retentionHours: options.kinesis?.retentionHours ?? 24,
    },
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
          writerBatchSize: 10_000,
          writerBatchingSeconds: 60,
        }
      : {
          rawExpirationDays: 30,
          errorsExpirationDays: 30,
          readingsInfrequentAccessDays: 30,
          noncurrentVersionExpirationDays: 7,
          writerBatchSize: 10_000,
          writerBatchingSeconds: 10,
        },
    logRetentionDays: production ? 365 : 30,
  };
}
