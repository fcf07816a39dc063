import { ValidationError } from "../shared/errors.ts";
import { WINDOW_TICK_TOPIC, isWindowTick } from "../scoring/window-tick.ts";
import { parseEnvelope } from "./envelope-codec.ts";
import { transformIngestBatchLines, type IngestBatchDeps, type IngestBatchSummary } from "./ingest-batch.ts";

/**
 * The lake fed from the telemetry stream (ADR 1001, "lake feed"): one batch of Kinesis records — what the stream's
 * lake-writer consumer receives — becomes the lake objects Firehose would have written for the same messages:
 *
 *   readings/date=YYYY-MM-DD/hour=HH/<name>   the de-identified readings (NDJSON)
 *   errors/date=YYYY-MM-DD/hour=HH/<name>     one PHI-free error record per rejected message
 *   raw/date=YYYY-MM-DD/hour=HH/<name>        the source records (sealed with the raw zone's key by the writer)
 *
 * The records go through the SAME batch logic as the Firehose transformation (`transformIngestBatch`: validation,
 * de-identification, vault, per-record outcomes), so readings and error records are byte-for-byte what the Firehose
 * path writes. Partitions are by each record's arrival time in the stream, as Firehose partitions by arrival.
 *
 * Object names are derived from the shard and the batch's sequence-number range only, so a retried batch (the
 * event source mapping retries the same records until they succeed; bisection is off for this consumer) writes
 * the same keys again and overwrites its own objects: the lake holds every message once, however often the batch
 * ran. Window ticks (ADR 0606) are not messages and are skipped.
 */
export interface StreamLakeRecord {
  sequenceNumber: string;
  /** Base64 of the record's bytes (an `Envelope` as JSON, as the IoT rule's Kinesis action puts it). */
  data: string;
  /** `approximateArrivalTimestamp`, epoch ms. */
  arrivalMs: number;
}

export type StreamLakeZone = "readings" | "errors" | "raw";

export interface StreamLakeObject {
  zone: StreamLakeZone;
  /** S3 key, without the compression suffix the writer adds (`.gz`). */
  key: string;
  /** NDJSON lines (raw: the source records, one per line). */
  body: Buffer;
  records: number;
}

export interface StreamLakeBatchSummary extends IngestBatchSummary {
  /** Window ticks skipped. */
  ticks: number;
}

/** Object name of a batch: the shard and its first and last sequence numbers (deterministic across retries). */
export function streamLakeObjectName(shardId: string, first: string, last: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9-]/g, "_");
  return `telemetry-${safe(shardId)}-${safe(first)}-${safe(last)}`;
}

/** Builds the lake objects of one batch; throws on dependency failures (the batch must be retried whole). */
export async function streamLakeBatch(
  shardId: string,
  records: readonly StreamLakeRecord[],
  deps: IngestBatchDeps,
): Promise<{ objects: StreamLakeObject[]; summary: StreamLakeBatchSummary }> {
  // Each record's bytes are decoded once, for the tick check, the transformation and raw/ (issue 13: three times).
  const messages: { record: StreamLakeRecord; bytes: Buffer }[] = [];
  for (const record of records) {
    const bytes = Buffer.from(record.data, "base64");
    if (!isTick(bytes)) messages.push({ record, bytes });
  }
  const { outcomes, summary } = await transformIngestBatchLines(
    messages.map(({ record, bytes }) => ({
      recordId: record.sequenceNumber,
      data: record.data,
      bytes,
      arrivalMs: record.arrivalMs,
    })),
    deps,
  );
  const ticks = records.length - messages.length;
  if (records.length === 0) return { objects: [], summary: { ...summary, ticks } };
  const name = streamLakeObjectName(
    shardId,
    records[0].sequenceNumber,
    records[records.length - 1].sequenceNumber,
  );

  // raw/ parts are the source bytes (and a newline where one is missing); readings/ and errors/ parts are the
  // output lines as text, encoded once per object.
  const groups = new Map<string, { zone: StreamLakeZone; parts: (Buffer | string)[]; records: number }>();
  const add = (zone: StreamLakeZone, date: string, hour: string, part: Buffer | string) => {
    const key = `${zone}/date=${date}/hour=${hour}/${name}`;
    const group = groups.get(key);
    const newline = typeof part !== "string" && part[part.length - 1] !== 0x0a;
    if (group) {
      group.parts.push(part);
      if (newline) group.parts.push(NEWLINE);
      group.records++;
    } else groups.set(key, { zone, parts: newline ? [part, NEWLINE] : [part], records: 1 });
  };
  outcomes.forEach((outcome, index) => {
    const { date, hour } = outcome.partitionKeys;
    // raw/: every message as it arrived (duplicates too: raw/ is the source record backup, as Firehose's).
    add("raw", date, hour, messages[index].bytes);
    if (outcome.result === "Ok" && outcome.line !== undefined)
      add(outcome.partitionKeys.zone, date, hour, outcome.line);
  });
  const objects = [...groups].map(([key, { zone, parts, records: count }]) => ({
    zone,
    key,
    body:
      zone === "raw" ? Buffer.concat(parts as Buffer[]) : Buffer.from((parts as string[]).join(""), "utf8"),
    records: count,
  }));
  return { objects, summary: { ...summary, ticks } };
}

const NEWLINE = Buffer.from("\n");

function isTick(bytes: Buffer): boolean {
  // Cheap pre-check (a tick's topic starts with `$`, which no device can publish to); parse only candidates.
  if (!bytes.includes(WINDOW_TICK_TOPIC)) return false;
  try {
    return isWindowTick(parseEnvelope(bytes));
  } catch (error) {
    if (error instanceof ValidationError) return false;
    throw error;
  }
}
