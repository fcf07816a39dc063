import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import middy from "@middy/core";
import type {
  Context,
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from "aws-lambda";
import type { Clock } from "@driftwatch/core/ports/clock";
import { systemClock } from "@driftwatch/core/ports/clock";
import type { Deidentifier, PhiCatalogue } from "@driftwatch/core/privacy/deidentifier";
import { DriftwatchError, ValidationError } from "@driftwatch/core/shared/errors";
import { CachedRegistry } from "@driftwatch/core/telemetry/cached-registry";
import type { Envelope } from "@driftwatch/core/telemetry/envelope";
import { parseEnvelope } from "@driftwatch/core/telemetry/envelope-codec";
import { toErrorRecord } from "@driftwatch/core/telemetry/error-record";
import { createReadingPreparer, type ReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { DynamoDeviceRegistry } from "../adapters/dynamo-device-registry.ts";
import { lazy, positiveInt, readConfig, required, seconds } from "../shared/config.ts";
import { lakePartition, type LakeZone } from "../shared/lake-layout.ts";
import { MetricUnit, logger, metrics, withObservability } from "../shared/observability.ts";
import { createAwsPrivacy, privacyConfigShape } from "../shared/privacy.ts";

/**
 * The Firehose transformation of the `ingest` delivery stream. Per record:
 *
 * - a good message → `Ok`, zone `readings`, data = the de-identified, enriched reading as one NDJSON line;
 * - bad input (any `ValidationError`: malformed, wrong schema, unknown topic or device, too large, binary, …) →
 *   `Ok`, zone `errors`, data = the PHI-stripped error record (Firehose's own `ProcessingFailed` output would
 *   hold the raw record, PHI included, so this handler never returns `ProcessingFailed`);
 * - an unexpected bug on one record → `Ok`, zone `errors`, code `INTERNAL_ERROR` (the raw record stays in the
 *   encrypted `raw/` backup for replay);
 * - a record byte-identical to an earlier one in the same invocation (a retried put of one message: same
 *   envelope, message id included — distinct publishes differ by `messageId`) → `Dropped`;
 * - a dependency failure (`TransientError`, `ConfigurationError`: registry, vault or KMS unavailable) → the whole
 *   invocation throws and Firehose retries it; vault writes are idempotent, so a retry repeats nothing visible.
 *
 * Partition keys (`zone`, `date`, `hour`) use the record's Firehose arrival time, the clock of `raw/`'s prefix.
 */
export interface TransformDeps {
  preparer: ReadingPreparer;
  /** Keeps identifiers in error records as tokens; without it they are removed. */
  deidentifier?: Deidentifier;
  /** Catalogue for error records when there is no deidentifier. */
  catalogue?: PhiCatalogue;
  /** Write PHI to the vault (default true; the preparer must have a vault). */
  vault?: boolean;
  /** Records prepared concurrently (default 32): overlaps registry/vault calls on cache misses. */
  concurrency?: number;
  /** Mark byte-identical records after the first as `Dropped` (default true). */
  dropDuplicates?: boolean;
  clock?: Clock;
}

export interface TransformSummary {
  records: number;
  readings: number;
  rejected: number;
  dropped: number;
  vaulted: number;
  /** Rejections by error code. */
  codes: Record<string, number>;
}

type Outcome =
  | { kind: "reading"; line: string; arrival: number; vaulted: number }
  | { kind: "rejected"; line: string; arrival: number; code: string; topic?: string }
  | { kind: "duplicate"; of: number };

/** Transforms one event; throws on transient/configuration failures (the invocation must be retried). */
export async function transformRecords(
  event: FirehoseTransformationEvent,
  deps: TransformDeps,
): Promise<{ result: FirehoseTransformationResult; summary: TransformSummary }> {
  const clock = deps.clock ?? systemClock;
  const records = event.records ?? [];
  const outcomes: Outcome[] = new Array(records.length);
  const firstByData = new Map<string, number>();
  const work: number[] = [];
  records.forEach((record, index) => {
    if (deps.dropDuplicates !== false) {
      const first = firstByData.get(record.data);
      if (first !== undefined) {
        outcomes[index] = { kind: "duplicate", of: first };
        return;
      }
      firstByData.set(record.data, index);
    }
    work.push(index);
  });

  const vault = deps.vault ?? true;
  let failure: unknown;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < work.length) {
      const index = work[next++];
      try {
        outcomes[index] = await processRecord(records[index], deps, vault, clock);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  const workers = Math.max(1, Math.min(deps.concurrency ?? 32, work.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure;

  const summary: TransformSummary = {
    records: records.length,
    readings: 0,
    rejected: 0,
    dropped: 0,
    vaulted: 0,
    codes: {},
  };
  const out: FirehoseTransformationResultRecord[] = records.map((record, index) => {
    const outcome = outcomes[index];
    if (outcome.kind === "duplicate") {
      summary.dropped++;
      const original = outcomes[outcome.of] as Exclude<Outcome, { kind: "duplicate" }>;
      return {
        recordId: record.recordId,
        result: "Dropped",
        data: record.data,
        metadata: partitionMetadata(zoneOf(original), original.arrival),
      };
    }
    if (outcome.kind === "reading") {
      summary.readings++;
      summary.vaulted += outcome.vaulted;
    } else {
      summary.rejected++;
      summary.codes[outcome.code] = (summary.codes[outcome.code] ?? 0) + 1;
    }
    return {
      recordId: record.recordId,
      result: "Ok",
      data: Buffer.from(outcome.line, "utf8").toString("base64"),
      metadata: partitionMetadata(zoneOf(outcome), outcome.arrival),
    };
  });
  return { result: { records: out }, summary };
}

async function processRecord(
  record: FirehoseTransformationEventRecord,
  deps: TransformDeps,
  vault: boolean,
  clock: Clock,
): Promise<Outcome> {
  const arrival = Number.isFinite(record.approximateArrivalTimestamp)
    ? record.approximateArrivalTimestamp
    : clock.now();
  let envelope: Envelope | undefined;
  try {
    envelope = parseEnvelope(Buffer.from(record.data ?? "", "base64"));
    const prepared = await deps.preparer.prepare(envelope, { vault });
    return {
      kind: "reading",
      line: `${JSON.stringify(prepared.reading)}\n`,
      arrival,
      vaulted: prepared.vaulted,
    };
  } catch (error) {
    // Dependencies failing or misconfigured: not the record's fault; fail the invocation so Firehose retries.
    if (error instanceof DriftwatchError && !(error instanceof ValidationError)) throw error;
    const errorRecord = toErrorRecord(envelope, error, record.recordId, {
      deidentifier: deps.deidentifier,
      catalogue: deps.catalogue,
      now: clock.now(),
      data: envelope === undefined ? Buffer.from(record.data ?? "", "base64") : undefined,
    });
    if (!(error instanceof ValidationError)) {
      logger.error("unexpected error preparing a record", {
        recordId: record.recordId,
        errorName: error instanceof Error ? error.name : typeof error,
      });
    }
    return {
      kind: "rejected",
      line: `${JSON.stringify(errorRecord)}\n`,
      arrival,
      code: errorRecord.code,
      topic: envelope?.topic,
    };
  }
}

function zoneOf(outcome: Exclude<Outcome, { kind: "duplicate" }>): LakeZone {
  return outcome.kind === "reading" ? "readings" : "errors";
}

let lastHour: { bucket: number; date: string; hour: string } | undefined;

function partitionMetadata(
  zone: LakeZone,
  arrivalMs: number,
): FirehoseTransformationResultRecord["metadata"] {
  // A batch spans seconds, so the UTC hour is nearly always the previous record's: skip re-formatting it.
  const bucket = Math.floor(arrivalMs / 3_600_000);
  if (lastHour?.bucket !== bucket) {
    const { date, hour } = lakePartition(zone, arrivalMs);
    lastHour = { bucket, date, hour };
  }
  return { partitionKeys: { zone, date: lastHour.date, hour: lastHour.hour } };
}

/** Emits the per-invocation metrics and summary log line (codes and counts only; never payload values). */
function report(summary: TransformSummary, event: FirehoseTransformationEvent, startedAt: number): void {
  metrics.addMetric("RecordsIn", MetricUnit.Count, summary.records);
  metrics.addMetric("RecordsOk", MetricUnit.Count, summary.readings);
  metrics.addMetric("RecordsRejected", MetricUnit.Count, summary.rejected);
  metrics.addMetric("RecordsDropped", MetricUnit.Count, summary.dropped);
  metrics.addMetric("PhiValuesVaulted", MetricUnit.Count, summary.vaulted);
  for (const [code, count] of Object.entries(summary.codes)) {
    metrics
      .singleMetric()
      .addDimension("code", code)
      .addMetric("RecordsRejectedByCode", MetricUnit.Count, count);
  }
  logger.info("transformed batch", {
    invocationId: event.invocationId,
    records: summary.records,
    readings: summary.readings,
    rejected: summary.rejected,
    dropped: summary.dropped,
    vaulted: summary.vaulted,
    codes: summary.codes,
    durationMs: Date.now() - startedAt,
  });
}

/**
 * The handler with its dependencies supplied by `deps` (called on every invocation; memoize it — `lazy` does).
 * Local mode passes local adapters; `handler` below builds the AWS ones.
 */
export function createTransformHandler(deps: () => Promise<TransformDeps>) {
  const handle = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const startedAt = Date.now();
    const resolved = await deps();
    try {
      const { result, summary } = await transformRecords(event, resolved);
      report(summary, event, startedAt);
      return result;
    } catch (error) {
      metrics.addMetric("TransformInvocationFailed", MetricUnit.Count, 1);
      logger.error("transformation failed; Firehose will retry the batch", {
        invocationId: event.invocationId,
        records: event.records?.length ?? 0,
        errorName: error instanceof Error ? error.name : typeof error,
        code: error instanceof DriftwatchError ? error.code : undefined,
      });
      throw error;
    }
  };
  return withObservability(
    middy<FirehoseTransformationEvent, FirehoseTransformationResult, Error, Context>(handle),
  );
}

/** AWS wiring, built on the first invocation (module import reads no configuration and creates no clients). */
export async function createAwsTransformDeps(env: NodeJS.ProcessEnv = process.env): Promise<TransformDeps> {
  const config = readConfig(
    {
      ...privacyConfigShape(true),
      DEVICES_TABLE: required(),
      DEVICE_CACHE_TTL_SECONDS: seconds(300),
      DEVICE_NEGATIVE_CACHE_TTL_SECONDS: seconds(30),
      TRANSFORM_CONCURRENCY: positiveInt(32),
    },
    env,
  );
  const dynamo = new DynamoDBClient({});
  const kms = new KMSClient({});
  const privacy = await createAwsPrivacy({ vault: true, config, kms, dynamo });
  const registry = new CachedRegistry(new DynamoDeviceRegistry(dynamo, config.DEVICES_TABLE), {
    ttlMs: config.DEVICE_CACHE_TTL_SECONDS * 1000,
    negativeTtlMs: config.DEVICE_NEGATIVE_CACHE_TTL_SECONDS * 1000,
  });
  return {
    preparer: createReadingPreparer({ registry, deidentifier: privacy.deidentifier, vault: privacy.vault }),
    deidentifier: privacy.deidentifier,
    concurrency: config.TRANSFORM_CONCURRENCY,
  };
}

export const handler = createTransformHandler(lazy(() => createAwsTransformDeps()));
