import type { StageProfile } from "./stage-profile.ts";
import { shardsForPeak } from "./kinesis-shards.ts";
import { DEFAULT_CHECKPOINT_EVERY_WINDOWS } from "../scoring/detector-pool.ts";
import { GIB, KIB, recordsPerMonth, secondsPerMonth, type Workload } from "./workload.ts";

const MIB = KIB * KIB;
/** Lambda gives a function one full vCPU at 1,769 MB; below that, CPU time stretches in proportion. */
const ONE_VCPU_MIB = 1769;
/** Firehose's largest record (1,000 KiB): packed records are billed at their bytes. */
const FIREHOSE_RECORD_MAX = 1000 * KIB;
/** Lambda's synchronous invocation payload limit (a Kinesis batch is cut to fit it). */
const LAMBDA_PAYLOAD_MAX = 6 * MIB;

/** Bytes `bytes` are billed as when metered in increments of `incrementKb` KiB. */
export function roundedUp(bytes: number, incrementKb: number): number {
  const increment = incrementKb * KIB;
  return Math.ceil(bytes / increment) * increment;
}

export interface LambdaUsage {
  invocations: number;
  gbSeconds: number;
  architecture: "arm64" | "x86_64";
}

/** Monthly usage of every billed dimension, before prices: what the workload makes this stage do. */
export interface Usage {
  records: number;
  recordGb: number;
  iot: {
    connectionMinutes: number;
    meteredMessages: number;
    rulesTriggered: number;
    actionsExecuted: number;
  };
  firehose: { ingestGb: number; partitionedGb: number; partitionedObjects: number; scoresGb: number };
  kinesis: {
    mode: "on-demand" | "provisioned";
    shards: number;
    shardHours: number;
    extendedRetentionShardHours: number;
    putPayloadUnits: number;
    streamHours: number;
    ingestGb: number;
    retrievalGb: number;
  };
  lambda: {
    transform: LambdaUsage;
    scoring: LambdaUsage;
    lakeWriter: LambdaUsage;
    api: LambdaUsage;
    escalation: LambdaUsage;
    backtest: LambdaUsage;
  };
  dynamodb: { writeUnits: number; readUnits: number; storageGb: number };
  s3: { standardGb: number; infrequentAccessGb: number; puts: number; gets: number };
  kms: { keys: number; requests: number };
  stepFunctions: { transitions: number };
  sns: { publishes: number };
  cloudwatch: {
    logIngestGb: number;
    logStoredGb: number;
    customMetrics: number;
    alarms: number;
    dashboards: number;
  };
  athena: { queries: number; scannedTb: number };
  api: { requests: number };
  secrets: number;
}

function lambdaUsage(
  invocations: number,
  records: number,
  fn: {
    memoryMiB: number;
    microsPerRecord: number;
    overheadMsPerInvocation: number;
    architecture: "arm64" | "x86_64";
  },
): LambdaUsage {
  const stretch = Math.max(1, ONE_VCPU_MIB / fn.memoryMiB);
  const seconds =
    (records * fn.microsPerRecord * stretch) / 1e6 + (invocations * fn.overheadMsPerInvocation) / 1000;
  return { invocations, gbSeconds: seconds * (fn.memoryMiB / 1024), architecture: fn.architecture };
}

/** Objects one Firehose destination writes a month: one per buffer, whichever of size or interval fills first. */
function firehoseObjects(bytes: number, seconds: number, bufferMiB: number, bufferSeconds: number): number {
  if (bytes === 0) return 0;
  return Math.max(bytes / (bufferMiB * MIB), seconds / bufferSeconds);
}

export function usage(w: Workload, p: StageProfile, hoursPerMonth: number): Usage {
  const records = recordsPerMonth(w);
  const seconds = secondsPerMonth(w);
  const recordBytes = records * w.recordBytes;
  const traffic = records > 0;
  const streamFed = p.ingest.lakeFeed === "stream";

  // ── IoT Core ──
  const iot = {
    connectionMinutes: w.devices * p.ingest.connectedFraction * w.daysPerMonth * 1440,
    meteredMessages: p.ingest.basicIngest ? 0 : records * Math.ceil(w.recordBytes / (5 * KIB)),
    rulesTriggered: records * p.ingest.rulesPerMessage,
    // Kinesis (scoring and, with the stream feed, the lake), plus Firehose with the Firehose feed.
    actionsExecuted: records * (streamFed ? 1 : 2),
  };

  // ── Firehose: ingest (rounded per record unless packed; none with the stream feed) and the scores archive ──
  const ingestBytes = streamFed
    ? 0
    : p.firehose.route === "packed"
      ? roundedUp(FIREHOSE_RECORD_MAX, 5) * Math.ceil(recordBytes / FIREHOSE_RECORD_MAX)
      : records * roundedUp(w.recordBytes, 5);
  const scoreBytes = p.scoresArchive.enabled
    ? p.scoresArchive.packing === "packed"
      ? records * p.scoresArchive.bytesPerScore
      : records * roundedUp(p.scoresArchive.bytesPerScore, 5)
    : 0;
  const readingsObjects = firehoseObjects(
    recordBytes,
    seconds,
    p.firehose.bufferMiB,
    p.firehose.bufferSeconds,
  );
  const partitioned = p.firehose.dynamicPartitioning && !streamFed;
  const firehose = {
    ingestGb: ingestBytes / GIB,
    partitionedGb: partitioned ? recordBytes / GIB : 0,
    partitionedObjects: partitioned ? readingsObjects : 0,
    scoresGb: scoreBytes / GIB,
  };

  // ── Kinesis (scoring's input) ──
  const neededShards = shardsForPeak(w.peakRecordsPerSecond, w.recordBytes);
  const provisioned = p.kinesis.mode === "provisioned";
  const shards = provisioned ? p.kinesis.shardCount || neededShards : Math.max(4, neededShards);
  const kinesis = {
    mode: p.kinesis.mode,
    shards,
    shardHours: provisioned ? shards * hoursPerMonth : 0,
    extendedRetentionShardHours: provisioned && p.kinesis.retentionHours > 24 ? shards * hoursPerMonth : 0,
    putPayloadUnits: provisioned ? records * Math.ceil(w.recordBytes / (25 * KIB)) : 0,
    streamHours: provisioned ? 0 : hoursPerMonth,
    ingestGb: provisioned ? 0 : (records * roundedUp(w.recordBytes, 1)) / GIB,
    retrievalGb: provisioned
      ? 0
      : ((p.kinesis.consumers + (streamFed ? 1 : 0)) * records * w.recordBytes) / GIB,
  };

  // ── Lambda ──
  const transformInvocations = streamFed
    ? 0
    : firehoseObjects(recordBytes, seconds, p.firehose.processorBufferMiB, p.firehose.processorBufferSeconds);
  // The lake writer: one invocation per shard per full batch (records, or Lambda's 6 MB payload of base64 records
  // with ~350 bytes of event fields each) or per batching window, whichever comes first.
  const writerBatch = Math.max(
    1,
    Math.min(
      p.lakeWriter.batchSize,
      Math.floor(LAMBDA_PAYLOAD_MAX / (Math.ceil(w.recordBytes / 3) * 4 + 350)),
    ),
  );
  const writerInvocations =
    streamFed && traffic
      ? Math.max(
          records / writerBatch,
          Math.min(records, (shards * seconds) / Math.max(1, p.lakeWriter.batchingWindowSeconds)),
        )
      : 0;
  const pollSlots = traffic ? (shards * seconds) / Math.max(1, p.scoring.batchingWindowSeconds) : 0;
  const windowsPerMonth = seconds / w.windowSeconds;
  const scoringInvocations = Math.min(
    pollSlots,
    Math.max(records / p.scoring.batchSize, traffic ? shards * windowsPerMonth : 0),
  );
  const apiRequests =
    w.consoleHoursPerDay * 3600 * w.daysPerMonth * (p.api.requestsPerPoll / p.api.pollSeconds) +
    w.backtestsPerDay * w.daysPerMonth;
  const incidents = w.incidentsPerDay * w.daysPerMonth;
  const backtests = w.backtestsPerDay * w.daysPerMonth;
  const small = { memoryMiB: 512, microsPerRecord: 1, architecture: "arm64" as const };
  const lambda = {
    transform: lambdaUsage(transformInvocations, streamFed ? 0 : records, p.transform),
    scoring: lambdaUsage(scoringInvocations, records, p.scoring),
    lakeWriter: lambdaUsage(writerInvocations, streamFed ? records : 0, p.lakeWriter),
    api: lambdaUsage(apiRequests, 0, { ...small, overheadMsPerInvocation: 60 }),
    escalation: lambdaUsage(incidents * 6, 0, { ...small, overheadMsPerInvocation: 150 }),
    backtest: lambdaUsage(
      backtests,
      w.devices > 0 ? (backtests * (records / (w.daysPerMonth * 24)) * w.backtestHours) / w.devices : 0,
      {
        memoryMiB: 1024,
        microsPerRecord: 20,
        overheadMsPerInvocation: 1500,
        architecture: "arm64",
      },
    ),
  };

  // ── DynamoDB (on demand) ──
  const perMetricItems = p.scoring.aggregateItems === "per-metric";
  const itemsPerWindow = perMetricItems ? w.metricsPerRecord : 1;
  // Item sizes by DynamoDB's size rules for the Metrics table's layouts (DynamoMetricsStore; ADR 1001): a
  // per-metric item ~406 bytes; a per-device item ~290 bytes plus ~87 per metric (722 with five). A write costs
  // one unit per KB started; storage counts each item 100 bytes more.
  const aggregateItemBytes = perMetricItems ? 406 : 290 + 87 * w.metricsPerRecord;
  const aggregateWrites = traffic
    ? w.devices * windowsPerMonth * itemsPerWindow * Math.ceil(aggregateItemBytes / KIB)
    : 0;
  // Warm containers, each with its own registry cache: scoring's (one per shard) and the lake writer's (one per
  // shard) or the transformation's (about one).
  const containers = traffic ? shards + (streamFed ? shards : 1) : 0;
  // A shard consumer's container only sees its shard's devices (the partition key is the device id), so scoring and
  // the lake writer each refresh every device once per cache period, however many shards; the transformation's
  // containers each see the whole fleet. Eventually consistent reads of items under 4 KB: half a unit each.
  // Readers of the whole fleet: scoring, plus the lake writer or the transformation (about one warm container).
  const fleetReaders = traffic ? 2 : 0;
  const registryReads = fleetReaders * w.devices * (seconds / p.registry.cacheSeconds) * 0.5;
  const vaultWrites = containers > 0 ? w.devices * w.phiRecordsFraction * hoursPerMonth : 0;
  const incidentWrites = incidents * p.escalation.writesPerIncident;
  const dynamodb = {
    writeUnits: aggregateWrites + vaultWrites + incidentWrites,
    readUnits: registryReads + incidents * 4,
    storageGb:
      (w.devices *
        (86_400 / w.windowSeconds) *
        p.scoring.aggregateTtlDays *
        itemsPerWindow *
        (aggregateItemBytes + 100)) /
      GIB,
  };

  // ── S3: readings, raw backup, scores (gzip), after `storageMonths` with lifecycle; PUTs ──
  const monthlyReadingsGb = (recordBytes * p.firehose.compressionRatio) / GIB;
  const monthlyScoresGb = p.scoresArchive.enabled
    ? (records * p.scoresArchive.bytesPerScore * p.firehose.compressionRatio) / GIB
    : 0;
  const standardMonths = Math.min(w.storageMonths, p.lake.readingsInfrequentAccessDays / 30);
  const iaMonths = Math.max(0, w.storageMonths - standardMonths);
  const rawMonths = p.firehose.rawBackup ? Math.min(w.storageMonths, p.lake.rawExpirationDays / 30) : 0;
  const rawObjects = p.firehose.rawBackup && !streamFed ? readingsObjects : 0;
  const writerObjects = writerInvocations * p.lakeWriter.objectsPerInvocation;
  const scoreObjects = firehoseObjects(scoreBytes, seconds, p.firehose.bufferMiB, p.firehose.bufferSeconds);
  // Each model is checkpointed once per DEFAULT_CHECKPOINT_EVERY_WINDOWS window ends (spread, ADR 0602).
  const checkpointPuts = traffic ? (w.models * windowsPerMonth) / DEFAULT_CHECKPOINT_EVERY_WINDOWS : 0;
  const s3 = {
    standardGb: (monthlyReadingsGb + monthlyScoresGb) * standardMonths + monthlyReadingsGb * rawMonths,
    infrequentAccessGb: (monthlyReadingsGb + monthlyScoresGb) * iaMonths,
    puts: (streamFed ? writerObjects : readingsObjects + rawObjects) + scoreObjects + checkpointPuts,
    gets: containers * hoursPerMonth * w.models * 0.1,
  };

  // ── Everything else ──
  const invocations = Object.values(lambda).reduce((n, l) => n + l.invocations, 0);
  const logIngestGb = (invocations * p.monitoring.logBytesPerInvocation) / GIB;
  const perBacktestBytes =
    (recordBytes / (w.daysPerMonth * 24)) *
    w.backtestHours *
    p.firehose.compressionRatio *
    p.lake.backtestScanFraction;
  return {
    records,
    recordGb: recordBytes / GIB,
    iot,
    firehose,
    kinesis,
    lambda,
    dynamodb,
    s3,
    kms: { keys: p.kmsKeys, requests: containers * hoursPerMonth * p.kmsRequestsPerContainerHour },
    stepFunctions: { transitions: incidents * p.escalation.transitionsPerIncident },
    sns: { publishes: incidents * p.escalation.notificationsPerIncident },
    cloudwatch: {
      logIngestGb,
      logStoredGb: logIngestGb * Math.min(w.storageMonths, p.monitoring.logRetentionDays / 30),
      customMetrics: traffic ? p.monitoring.customMetrics : 0,
      alarms: p.monitoring.alarms,
      dashboards: p.monitoring.dashboards,
    },
    athena: {
      queries: backtests,
      scannedTb: (backtests * Math.max(perBacktestBytes, 10 * MIB)) / (GIB * KIB),
    },
    api: { requests: apiRequests },
    secrets: p.secrets,
  };
}
