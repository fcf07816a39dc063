import type { Clock } from "../ports/clock.ts";
import { systemClock } from "../ports/clock.ts";
import type { Deidentifier, PhiCatalogue } from "../privacy/deidentifier.ts";
import { DriftwatchError, ValidationError } from "../shared/errors.ts";
import type { Envelope } from "./envelope.ts";
import { parseEnvelope } from "./envelope-codec.ts";
import { toErrorRecord, type ErrorRecord } from "./error-record.ts";
import type { ReadingPreparer } from "./prepare.ts";
import type { RecentReadings } from "./recent-readings.ts";

/**
 * The batch logic of the ingest transformation (Firehose's data-transformation Lambda), free of AWS types so the
 * handler stays thin (`functions/src/firehose/transform.ts`). Per record:
 *
 * - a good message → `Ok`, zone `readings`, the de-identified reading as one NDJSON line;
 * - bad input (any `ValidationError`) → `Ok`, zone `errors`, the error record (`error-record.ts`: no values);
 * - anything else one record throws (a bug, a `RangeError`) → `Ok`, zone `errors`, code `INTERNAL_ERROR`: the
 *   record alone is isolated, its neighbours are processed normally (even building the error record is guarded);
 * - a record byte-identical to an earlier one of the batch (a retried put of one message) → `Dropped`;
 * - with `recentReadings` (opt-in): a reading whose `readingId` an earlier record (another record id) already
 *   produced — a client's resend after a reconnect — → `Dropped` (ADR 0203; off by default: the lake keeps every
 *   delivery, each carrying its `readingId`, and the scoring path counts a reading once);
 * - a dependency failure (`TransientError`, `ConfigurationError`) → the whole batch throws (Firehose retries it;
 *   vault writes are idempotent).
 *
 * Partition keys (`zone`, `date`, `hour`) use each record's arrival time (the clock of `raw/`'s prefix).
 */
export interface IngestBatchRecord {
  recordId: string;
  /** Base64 of the record's bytes (an `Envelope` as JSON). */
  data: string;
  /** The same bytes decoded, when the caller has them already (the stream's lake writer): not decoded again. */
  bytes?: Uint8Array;
  /** Arrival time, epoch ms (Firehose's `approximateArrivalTimestamp`); default now. */
  arrivalMs?: number;
}

export type LakeZoneName = "readings" | "errors";

export interface IngestBatchOutcome {
  recordId: string;
  result: "Ok" | "Dropped";
  /** Base64 of the output line (`Dropped`: the input, unchanged). */
  data: string;
  partitionKeys: { zone: LakeZoneName; date: string; hour: string };
}

export interface IngestBatchSummary {
  records: number;
  readings: number;
  rejected: number;
  dropped: number;
  vaulted: number;
  /** Rejections by error code. */
  codes: Record<string, number>;
  /** Fields treated as PHI only as near misses of a catalogued name (flag: extend the catalogue). */
  phiNearMisses: number;
  /** Readings dropped as resends of an earlier record (same `readingId`); included in `dropped`. */
  resent: number;
}

export interface IngestBatchDeps {
  preparer: ReadingPreparer;
  /** Keys the tokens of error records; without it they carry none. */
  deidentifier?: Deidentifier;
  /** Catalogue for error records when there is no deidentifier. */
  catalogue?: PhiCatalogue;
  /** Write PHI to the vault (default true; the preparer must have a vault). */
  vault?: boolean;
  /** Records prepared concurrently (default 32): overlaps registry/vault calls on cache misses. */
  concurrency?: number;
  /** Mark byte-identical records and resent readings after the first as `Dropped` (default true). */
  dropDuplicates?: boolean;
  /** Opt-in: identities of recent readings across batches (one per handler instance); resends are `Dropped`. */
  recentReadings?: RecentReadings;
  clock?: Clock;
  /** Told of every record that failed with something other than a `ValidationError` (never with its data). */
  onUnexpected?: (recordId: string, error: unknown) => void;
}

type Outcome =
  | { kind: "reading"; line: string; arrival: number; vaulted: number; nearMisses: number }
  | { kind: "resent"; arrival: number }
  | { kind: "rejected"; line: string; arrival: number; code: string; nearMisses: number }
  | { kind: "duplicate"; of: number };

/**
 * An outcome with its output line as text (`Ok`; undefined for `Dropped`) instead of base64: for a caller that writes
 * the lines itself (the stream's lake writer), which would otherwise decode the base64 again (issue 13).
 */
export interface IngestBatchLineOutcome {
  recordId: string;
  result: "Ok" | "Dropped";
  /** `Ok`: the NDJSON line (newline included); `Dropped`: undefined (the input is the record's). */
  line: string | undefined;
  partitionKeys: IngestBatchOutcome["partitionKeys"];
}

/** Transforms one batch; throws on transient/configuration failures (the batch must be retried). */
export async function transformIngestBatch(
  records: readonly IngestBatchRecord[],
  deps: IngestBatchDeps,
): Promise<{ outcomes: IngestBatchOutcome[]; summary: IngestBatchSummary }> {
  return transformBatch(records, deps, (record, line, partitionKeys) => ({
    recordId: record.recordId,
    result: line === undefined ? "Dropped" : "Ok",
    data: line === undefined ? record.data : Buffer.from(line, "utf8").toString("base64"),
    partitionKeys,
  }));
}

/** `transformIngestBatch` with each output line as text (`IngestBatchLineOutcome`). */
export async function transformIngestBatchLines(
  records: readonly IngestBatchRecord[],
  deps: IngestBatchDeps,
): Promise<{ outcomes: IngestBatchLineOutcome[]; summary: IngestBatchSummary }> {
  return transformBatch(records, deps, (record, line, partitionKeys) => ({
    recordId: record.recordId,
    result: line === undefined ? "Dropped" : "Ok",
    line,
    partitionKeys,
  }));
}

async function transformBatch<T>(
  records: readonly IngestBatchRecord[],
  deps: IngestBatchDeps,
  output: (
    record: IngestBatchRecord,
    line: string | undefined,
    partitionKeys: IngestBatchOutcome["partitionKeys"],
  ) => T,
): Promise<{ outcomes: T[]; summary: IngestBatchSummary }> {
  const clock = deps.clock ?? systemClock;
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
  const recent = deps.recentReadings;
  let failure: unknown;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < work.length) {
      const index = work[next++];
      try {
        outcomes[index] = await processRecord(records[index], deps, vault, clock, recent);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  const workers = Math.max(1, Math.min(deps.concurrency ?? 32, work.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure;

  const summary: IngestBatchSummary = {
    records: records.length,
    readings: 0,
    rejected: 0,
    dropped: 0,
    vaulted: 0,
    codes: {},
    phiNearMisses: 0,
    resent: 0,
  };
  const hours = new HourCache();
  const out = records.map((record, index): T => {
    const outcome = outcomes[index];
    if (outcome.kind === "duplicate") {
      summary.dropped++;
      const original = outcomes[outcome.of] as Exclude<Outcome, { kind: "duplicate" }>;
      return output(
        record,
        undefined,
        hours.keys(original.kind === "resent" ? "readings" : zoneOf(original), original.arrival),
      );
    }
    if (outcome.kind === "resent") {
      summary.dropped++;
      summary.resent++;
      return output(record, undefined, hours.keys("readings", outcome.arrival));
    }
    summary.phiNearMisses += outcome.nearMisses;
    if (outcome.kind === "reading") {
      summary.readings++;
      summary.vaulted += outcome.vaulted;
    } else {
      summary.rejected++;
      summary.codes[outcome.code] = (summary.codes[outcome.code] ?? 0) + 1;
    }
    return output(record, outcome.line, hours.keys(zoneOf(outcome), outcome.arrival));
  });
  return { outcomes: out, summary };
}

async function processRecord(
  record: IngestBatchRecord,
  deps: IngestBatchDeps,
  vault: boolean,
  clock: Clock,
  recent: RecentReadings | undefined,
): Promise<Outcome> {
  const arrival =
    record.arrivalMs !== undefined && Number.isFinite(record.arrivalMs) ? record.arrivalMs : clock.now();
  let envelope: Envelope | undefined;
  try {
    envelope = parseEnvelope(record.bytes ?? Buffer.from(record.data ?? "", "base64"));
    const prepared = await deps.preparer.prepare(envelope, { vault });
    if (deps.dropDuplicates !== false && recent?.isDuplicate(prepared.reading.readingId, record.recordId))
      return { kind: "resent", arrival };
    return {
      kind: "reading",
      line: `${JSON.stringify(prepared.reading)}\n`,
      arrival,
      vaulted: prepared.vaulted,
      nearMisses: prepared.nearMisses ?? 0,
    };
  } catch (error) {
    // Dependencies failing or misconfigured: not the record's fault; fail the batch so it is retried.
    if (error instanceof DriftwatchError && !(error instanceof ValidationError)) throw error;
    if (!(error instanceof ValidationError)) deps.onUnexpected?.(record.recordId, error);
    const errorRecord = safeErrorRecord(envelope, error, record, deps, clock);
    return {
      kind: "rejected",
      line: `${JSON.stringify(errorRecord)}\n`,
      arrival,
      code: errorRecord.code,
      nearMisses: errorRecord.nearMissFields?.length ?? 0,
    };
  }
}

/** The record's error record; if even that throws, a minimal one (code and hash only), never the batch. */
function safeErrorRecord(
  envelope: Envelope | undefined,
  error: unknown,
  record: IngestBatchRecord,
  deps: IngestBatchDeps,
  clock: Clock,
): ErrorRecord {
  const options = { deidentifier: deps.deidentifier, catalogue: deps.catalogue, now: clock.now() };
  try {
    return toErrorRecord(envelope, error, record.recordId, {
      ...options,
      data: envelope === undefined ? recordBytes(record) : undefined,
    });
  } catch (inner) {
    deps.onUnexpected?.(record.recordId, inner);
    return toErrorRecord(undefined, error, record.recordId, { ...options, data: recordBytes(record) });
  }
}

function recordBytes(record: IngestBatchRecord): Uint8Array {
  return record.bytes ?? Buffer.from(record.data ?? "", "base64");
}

function zoneOf(outcome: Exclude<Outcome, { kind: "duplicate" } | { kind: "resent" }>): LakeZoneName {
  return outcome.kind === "reading" ? "readings" : "errors";
}

/** A batch spans seconds, so the UTC hour is nearly always the previous record's: skip re-formatting it. */
class HourCache {
  private bucket = Number.NaN;
  private date = "";
  private hour = "";

  keys(zone: LakeZoneName, arrivalMs: number): IngestBatchOutcome["partitionKeys"] {
    const bucket = Math.floor(arrivalMs / 3_600_000);
    if (bucket !== this.bucket) {
      const iso = new Date(arrivalMs).toISOString();
      this.bucket = bucket;
      this.date = iso.slice(0, 10);
      this.hour = iso.slice(11, 13);
    }
    return { zone, date: this.date, hour: this.hour };
  }
}
