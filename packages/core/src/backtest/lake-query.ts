import { DriftwatchError } from "../shared/errors.ts";
import { readingSchema, type Reading } from "../telemetry/reading.ts";
import { archivedVerdictSchema, type ArchivedVerdict } from "./archived-verdicts.ts";

/**
 * The one query text both lake engines run (ADR 0901): Athena over the Glue table `readings` on AWS, DuckDB over a
 * view named `readings` on the same gzip NDJSON files locally. Both tables expose the same columns: the reading's
 * fields (`metrics` and `tags` as JSON text, so no engine-specific map type crosses the boundary) plus the
 * `date`/`hour` partition columns of the lake layout (arrival time, UTC).
 *
 * Parameters are positional (`?`): Athena's execution parameters and DuckDB's prepared statements bind them alike.
 * The partition predicate prunes by arrival date, padded a day on each side of the event-time range, because a
 * reading's partition is its arrival time (late and early clocks land in neighbouring days).
 */
export const READINGS_COLUMNS = [
  "deviceid",
  "ts",
  "receivedat",
  "topic",
  "source",
  "site",
  "manufacturer",
  "model",
  "metrics",
  "tags",
  "readingid",
] as const;

const base = `SELECT ${READINGS_COLUMNS.join(", ")} FROM readings WHERE "date" BETWEEN ? AND ? AND ts >= ? AND ts < ?`;

/** Query text for a range, with or without a device filter of `deviceCount` ids. */
export function readingsQuery(deviceCount: number): string {
  if (deviceCount <= 0) return `${base} ORDER BY ts`;
  const marks = Array.from({ length: deviceCount }, () => "?").join(", ");
  return `${base} AND deviceid IN (${marks}) ORDER BY ts`;
}

const DAY_MS = 86_400_000;

/** The parameters of `readingsQuery` for an event-time range (ISO strings compare in time order). */
export function readingsQueryParameters(range: {
  fromMs: number;
  toMs: number;
  deviceIds?: readonly string[];
}): string[] {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return [
    day(range.fromMs - DAY_MS),
    day(range.toMs + DAY_MS),
    new Date(range.fromMs).toISOString(),
    new Date(range.toMs).toISOString(),
    ...(range.deviceIds ?? []),
  ];
}

/** One result row of `readingsQuery`, every column as text (how Athena returns them). */
export type ReadingsRow = Record<(typeof READINGS_COLUMNS)[number], string | null>;

/** A query row back into a reading (validated: a row that is not a reading fails loudly, naming the field). */
export function readingFromRow(row: ReadingsRow): Reading {
  const json = (field: "metrics" | "tags"): unknown => {
    const text = row[field];
    if (text === null || text === "") return field === "tags" ? {} : undefined;
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new LakeRowError(`lake row has unreadable ${field}`, { cause });
    }
  };
  const parsed = readingSchema.safeParse({
    deviceId: row.deviceid,
    ts: row.ts,
    receivedAt: row.receivedat,
    topic: row.topic,
    source: row.source,
    ...(row.site !== null && row.site !== "" ? { site: row.site } : {}),
    manufacturer: row.manufacturer,
    model: row.model,
    metrics: json("metrics"),
    tags: json("tags"),
    ...(row.readingid !== null && row.readingid !== undefined && row.readingid !== ""
      ? { readingId: row.readingid }
      : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LakeRowError(`lake row is not a reading: ${issue.path.join(".")} ${issue.message}`);
  }
  return parsed.data;
}

/** A lake row that does not hold a reading (a layout or table-definition mismatch, not user input). */
export class LakeRowError extends DriftwatchError {}

/**
 * The archived live verdicts of a range (ADR 0903): the same shape of query over the `scores` table (Glue on AWS, a
 * DuckDB view over the same objects locally). Only records that carry the detector's verdict (`detection`, archived
 * since issue 10's third session) are returned. Parameters: `readingsQueryParameters`.
 */
export const SCORES_COLUMNS = [
  "deviceid",
  "ts",
  "receivedat",
  "metrics",
  "score",
  "grade",
  "attribution",
  "detection",
] as const;

const scoresBase = `SELECT ${SCORES_COLUMNS.join(", ")} FROM scores WHERE "date" BETWEEN ? AND ? AND ts >= ? AND ts < ? AND detection IS NOT NULL`;

/** Query text for the archived verdicts of a range, with or without a device filter of `deviceCount` ids. */
export function scoresQuery(deviceCount: number): string {
  if (deviceCount <= 0) return scoresBase;
  const marks = Array.from({ length: deviceCount }, () => "?").join(", ");
  return `${scoresBase} AND deviceid IN (${marks})`;
}

/** One result row of `scoresQuery`: text (Athena), or a number for `score`/`grade` (DuckDB's DOUBLE). */
export type ScoresRow = Record<(typeof SCORES_COLUMNS)[number], string | number | null>;

/** A scores row back into an archived verdict (validated strictly; a row that is not one fails loudly). */
export function verdictFromRow(row: ScoresRow): ArchivedVerdict {
  const json = (field: "metrics" | "attribution" | "detection"): unknown => {
    const text = row[field];
    if (typeof text !== "string") return undefined;
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new LakeRowError(`scores row has unreadable ${field}`, { cause });
    }
  };
  const number = (field: "score" | "grade") => (row[field] === null ? undefined : Number(row[field]));
  const parsed = archivedVerdictSchema.safeParse({
    deviceId: row.deviceid,
    ts: row.ts,
    receivedAt: row.receivedat,
    metrics: json("metrics"),
    score: number("score"),
    grade: number("grade"),
    attribution: json("attribution"),
    detection: json("detection"),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LakeRowError(`scores row is not a verdict: ${issue.path.join(".")} ${issue.message}`);
  }
  return parsed.data;
}
