import { z } from "zod";

/**
 * The transformation's CPU time per record (bench/results/transform.json, `medianMicrosecondsPerRecord`) and the lake
 * writer's over it, measured in one process on the same records (bench/results/lake-writer.json,
 * `cpuRatioWriterOverTransform`: the writer runs the same batch logic and also gzips the readings and raw objects).
 */
const TRANSFORM_MICROS_PER_RECORD = 30.92;
const LAKE_WRITER_OVER_TRANSFORM = 1.477;

const architecture = z.enum(["arm64", "x86_64"]);

/**
 * The parts of a stage's configuration that decide what it costs. Defaults are production's settings in `stacks/`
 * (stage-config.ts, scoring-config.ts, the Lambda defaults) and the per-record CPU times measured by the
 * transformation and scoring benchmarks (bench/results/transform.json, scoring.json: one core of the benchmark
 * machine, i.e. one vCPU). `npx driftwatch cost` reads the committed benchmark results instead of these defaults.
 */
export const stageProfileSchema = z
  .object({
    name: z.string().default("production"),
    ingest: z
      .object({
        /**
         * Devices publish to `$aws/rules/<rule>/…`: no IoT messaging charge (rules and actions still billed). Built:
         * the stage option `ingest.basicIngest` (stacks/constructs/stage-config.ts; on in production).
         */
        basicIngest: z.boolean().default(true),
        /** Rules each message triggers (a catch-all rule for unknown topics would make it 2). */
        rulesPerMessage: z.number().int().nonnegative().default(1),
        /**
         * How messages reach the lake (the stage option `ingest.lakeFeed`, stacks/constructs/stage-config.ts; ADR 1001).
         * `stream` (built, every stage's default): the IoT rule's one action puts to Kinesis, and the lake writer — a
         * second consumer of the stream — writes readings/, errors/ and raw/ objects itself (no Firehose ingest, no
         * dynamic partitioning, one rule action per message). `firehose`: the rule's second action puts each message
         * to Firehose (5 KB rounding, dynamic partitioning, raw backup), whose transformation writes the lake.
         */
        lakeFeed: z.enum(["stream", "firehose"]).default("stream"),
        /** Devices connected all month (connectivity minutes). */
        connectedFraction: z.number().min(0).max(1).default(1),
      })
      .strict()
      .default({}),
    firehose: z
      .object({
        bufferSeconds: z.number().positive().default(300),
        bufferMiB: z.number().positive().default(64),
        /** Transformation invocations: one per processor buffer (size or time, whichever fills first). */
        processorBufferMiB: z.number().positive().default(1),
        processorBufferSeconds: z.number().positive().default(60),
        dynamicPartitioning: z.boolean().default(true),
        /** Source records also delivered to raw/ (sealed with the raw-zone key). */
        rawBackup: z.boolean().default(true),
        /** GZIP output size over input size (the seed assumes 1/4). */
        compressionRatio: z.number().positive().max(1).default(0.25),
        /**
         * How readings reach Firehose. `record-per-message`: the IoT rule action puts one Firehose record per
         * message, billed in 5 KB increments. `packed`: records are packed into Firehose records of up to 1,000 KiB
         * before they are put (billed at their bytes). NOT BUILT for readings (an IoT rule action cannot pack).
         */
        route: z.enum(["record-per-message", "packed"]).default("record-per-message"),
      })
      .strict()
      .default({}),
    scoresArchive: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * Bytes of one scored record (NDJSON line): 874 on average, measured over 400 lines of the local lake's
         * scores/ (simulated fleet of the four seed device types, docs/cost.md).
         */
        bytesPerScore: z.number().positive().default(874),
        /**
         * `record-per-score`: one Firehose record per score (5 KB each); `packed`: lines packed into ≤ 1,000 KiB records
         * (built: FirehoseScoreArchive packs, every stage).
         */
        packing: z.enum(["record-per-score", "packed"]).default("packed"),
      })
      .strict()
      .default({}),
    kinesis: z
      .object({
        /** Built: provisioned in every stage (sized from the stage's stated peak), on-demand as an option. */
        mode: z.enum(["on-demand", "provisioned"]).default("provisioned"),
        /** Provisioned shards; 0 sizes the stream for the peak (1 MB/s and 1,000 records/s per shard). */
        shardCount: z.number().int().nonnegative().default(0),
        retentionHours: z.number().min(24).default(24),
        /** Standard consumers besides the lake writer (the scoring event source mapping). */
        consumers: z.number().int().positive().default(1),
      })
      .strict()
      .default({}),
    transform: z
      .object({
        memoryMiB: z.number().int().min(128).default(1024),
        architecture: architecture.default("arm64"),
        /** CPU time per record on one vCPU (bench/results/transform.json). */
        microsPerRecord: z.number().positive().default(TRANSFORM_MICROS_PER_RECORD),
        /** Fixed time per invocation (registry and vault round trips, response), ms. */
        overheadMsPerInvocation: z.number().nonnegative().default(40),
      })
      .strict()
      .default({}),
    lakeWriter: z
      .object({
        memoryMiB: z.number().int().min(128).default(1024),
        architecture: architecture.default("arm64"),
        /**
         * CPU time per record on one vCPU: the transformation's batch logic plus gzip of the readings and raw objects
         * (bench/results/lake-writer.json, measured beside the Firehose transformation in one run).
         */
        microsPerRecord: z
          .number()
          .positive()
          .default(Number((TRANSFORM_MICROS_PER_RECORD * LAKE_WRITER_OVER_TRANSFORM).toFixed(2))),
        /** Fixed time per invocation: the parallel S3 puts of its objects and the registry/vault round trips, ms. */
        overheadMsPerInvocation: z.number().nonnegative().default(100),
        /** Event source mapping: records per batch (Lambda also caps a batch's payload at 6 MB) and batching window. */
        batchSize: z.number().int().positive().default(10_000),
        batchingWindowSeconds: z.number().nonnegative().default(60),
        /** Objects one invocation puts: readings/ and raw/ (errors/ only when a record is rejected). */
        objectsPerInvocation: z.number().positive().default(2),
      })
      .strict()
      .default({}),
    scoring: z
      .object({
        memoryMiB: z.number().int().min(128).default(1769),
        architecture: architecture.default("arm64"),
        /** CPU time per record on one vCPU, 50 models (bench/results/scoring.json: 4,544 records per CPU-second). */
        microsPerRecord: z.number().positive().default(220.1),
        batchSize: z.number().int().positive().default(1000),
        batchingWindowSeconds: z.number().nonnegative().default(5),
        overheadMsPerInvocation: z.number().nonnegative().default(60),
        /**
         * `per-metric`: one item per device, window and metric (the former layout); `per-device`: one item per device
         * and window with all its metrics (built: DynamoMetricsStore, every stage).
         */
        aggregateItems: z.enum(["per-metric", "per-device"]).default("per-device"),
        /** Days window aggregates are kept (DynamoDB TTL). */
        aggregateTtlDays: z.number().positive().default(90),
      })
      .strict()
      .default({}),
    registry: z
      .object({
        /** Registry cache TTL in each container, seconds (CachedRegistry). */
        cacheSeconds: z.number().positive().default(300),
      })
      .strict()
      .default({}),
    escalation: z
      .object({
        transitionsPerIncident: z.number().nonnegative().default(24),
        notificationsPerIncident: z.number().nonnegative().default(2),
        writesPerIncident: z.number().nonnegative().default(8),
      })
      .strict()
      .default({}),
    monitoring: z
      .object({
        /** Production's alarms (16 before the lake writer's iterator-age alarm). */
        alarms: z.number().int().nonnegative().default(17),
        dashboards: z.number().int().nonnegative().default(1),
        /** Distinct custom metric series (name × dimensions) the handlers emit. */
        customMetrics: z.number().int().nonnegative().default(20),
        /** Log bytes written per Lambda invocation (Powertools logs at INFO, REPORT lines). */
        logBytesPerInvocation: z.number().nonnegative().default(1500),
        logRetentionDays: z.number().positive().default(365),
      })
      .strict()
      .default({}),
    lake: z
      .object({
        readingsInfrequentAccessDays: z.number().positive().default(30),
        rawExpirationDays: z.number().positive().default(365),
        /**
         * Share of a range's readings a one-device backtest scans: 1 with date/hour partitions only (every device's
         * readings of the range are read); less with a partition or sort order that narrows to the device.
         */
        backtestScanFraction: z.number().positive().max(1).default(1),
      })
      .strict()
      .default({}),
    api: z
      .object({
        /** Console polling interval, seconds, and requests per poll. */
        pollSeconds: z.number().positive().default(10),
        requestsPerPoll: z.number().positive().default(2),
      })
      .strict()
      .default({}),
    kmsKeys: z.number().int().nonnegative().default(9),
    /** KMS requests per container-hour (data keys cached for minutes in the vault path; bucket keys on S3). */
    kmsRequestsPerContainerHour: z.number().nonnegative().default(20),
    secrets: z.number().int().nonnegative().default(2),
  })
  .strict();
export type StageProfile = z.infer<typeof stageProfileSchema>;
export type StageProfileInput = z.input<typeof stageProfileSchema>;

export function stageProfile(input: StageProfileInput = {}): StageProfile {
  return stageProfileSchema.parse(input);
}

/**
 * Named profiles, each describing a configuration that is built and deployable (ADR 1001):
 * - `production`: the production stage as `stacks/` configure it: Basic Ingest, the lake fed from the telemetry
 *   stream by the lake writer, provisioned Kinesis sized for the peak with 24 h retention, scores packed into
 *   Firehose records, one aggregate item per device and window;
 * - `dev`: a personal stage: the broker (no Basic Ingest), one provisioned shard, 10 s lake batches, 60 s buffers, a
 *   month of logs;
 * - `firehose`: production with the former ingest options of `config/ingest.production.json`
 *   (`{"lakeFeed":"firehose","kinesis":{"mode":"on-demand","retentionHours":168}}`): the IoT rule's Firehose action
 *   and transformation feed the lake, on-demand Kinesis with a week of retention (the previous production).
 */
export const stageProfiles: Record<"production" | "dev" | "firehose", StageProfileInput> = {
  production: { name: "production" },
  dev: {
    name: "dev",
    ingest: { basicIngest: false },
    firehose: { bufferSeconds: 60 },
    kinesis: { mode: "provisioned", shardCount: 1, retentionHours: 24 },
    lakeWriter: { batchingWindowSeconds: 10 },
    scoring: { batchingWindowSeconds: 1, aggregateTtlDays: 14 },
    monitoring: { logRetentionDays: 30 },
    lake: { rawExpirationDays: 30 },
  },
  firehose: {
    name: "firehose",
    ingest: { lakeFeed: "firehose" },
    kinesis: { mode: "on-demand", retentionHours: 168 },
    monitoring: { alarms: 16 },
  },
};
