/**
 * The data lake layout, shared by the Ingest stack (Firehose prefixes) and local mode's Firehose emulator, so
 * both write the same keys. The transformation handler returns `metadata.partitionKeys` with these names.
 *
 *   readings/date=YYYY-MM-DD/hour=HH/…   transformed, de-identified readings (zone "readings")
 *   errors/date=YYYY-MM-DD/hour=HH/…     one PHI-stripped record per rejected input, with its reason (zone "errors")
 *   raw/date=YYYY-MM-DD/hour=HH/…        source record backup (encrypted with the raw zone's own key)
 *   scores/…                             scored records archive (scoring path)
 */
export const lakePartitionKeys = ["zone", "date", "hour"] as const;
export type LakeZone = "readings" | "errors";

export interface LakePartition {
  zone: LakeZone;
  /** UTC date of the reading's arrival, `YYYY-MM-DD`. */
  date: string;
  /** UTC hour of the reading's arrival, `HH`. */
  hour: string;
}

/** Firehose dynamic-partitioning prefix for the main destination (uses the Lambda's partition keys). */
export const firehoseDataPrefix =
  "!{partitionKeyFromLambda:zone}/date=!{partitionKeyFromLambda:date}/hour=!{partitionKeyFromLambda:hour}/";

/** Where Firehose itself writes records it could not process (Lambda failure after retries). */
export const firehoseErrorPrefix =
  "errors/firehose/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/";

/** Source record backup prefix. */
export const firehoseRawPrefix = "raw/date=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/";

/** Scored records archive prefix (scoring path's delivery stream). */
export const firehoseScoresPrefix = "scores/date=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/";

/** The partition a record arriving at `arrivalMs` falls in. */
export function lakePartition(zone: LakeZone, arrivalMs: number): LakePartition {
  const iso = new Date(arrivalMs).toISOString();
  return { zone, date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/**
 * Evaluates a Firehose prefix expression the way Firehose does, for local mode:
 * `!{partitionKeyFromLambda:x}`, `!{timestamp:yyyy-MM-dd}` / `!{timestamp:HH}` (UTC, of the arrival time),
 * `!{firehose:error-output-type}`.
 */
export function evaluatePrefix(
  prefix: string,
  values: { partitionKeys?: Record<string, string>; arrivalMs: number; errorOutputType?: string },
): string {
  const iso = new Date(values.arrivalMs).toISOString();
  return prefix.replace(/!\{([^:}]+):([^}]+)\}/g, (_match, namespace: string, key: string) => {
    if (namespace === "partitionKeyFromLambda") {
      const value = values.partitionKeys?.[key];
      if (value === undefined) throw new Error(`missing partition key "${key}"`);
      return value;
    }
    if (namespace === "timestamp") {
      return key
        .replace("yyyy", iso.slice(0, 4))
        .replace("MM", iso.slice(5, 7))
        .replace("dd", iso.slice(8, 10))
        .replace("HH", iso.slice(11, 13));
    }
    if (namespace === "firehose" && key === "error-output-type")
      return values.errorOutputType ?? "processing-failed";
    throw new Error(`unsupported prefix expression !{${namespace}:${key}}`);
  });
}
