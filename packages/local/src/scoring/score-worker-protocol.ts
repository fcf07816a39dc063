import type { Alert } from "@driftwatch/core/alerts/alert";
import type { LocalScoreSettings } from "./score-deps.ts";
import type { TumblingWindowResponse } from "./event-source-mapping.ts";

/** What the main thread gives a scoring worker at start (`score-worker.ts`). */
export interface ScoreWorkerData {
  /** The worker module the boot file (`runtime/worker-boot.mjs`) loads through tsx. */
  entry: string;
  settings: LocalScoreSettings;
  /** dynalite's endpoint: the worker has its own DynamoDB client, as each Lambda instance has. */
  dynamoEndpoint: string;
  region: string;
  /** The function's Lambda context parameters (a fresh context per invocation, made in the worker). */
  lambda: { functionName: string; timeoutMs: number; memoryLimitInMB: number };
  logLevel: string;
  metrics: "off" | "sink";
}

/** A failure carried across threads by name and message. */
export interface SerializedError {
  name: string;
  message: string;
}

/** Main thread → worker. */
export type ToScoreWorker =
  | { type: "invoke"; id: number; event: PackedEvent }
  | { type: "devicesImported"; ids: readonly string[] }
  | { type: "thresholdsChanged" }
  | { type: "reply"; id: number; ok: true; value: unknown }
  | { type: "reply"; id: number; ok: false; error: SerializedError }
  | { type: "stop" };

/** Worker → main thread. */
export type FromScoreWorker =
  | { type: "ready" }
  | { type: "result"; id: number; ok: true; response: TumblingWindowResponse | undefined }
  | { type: "result"; id: number; ok: false; error: SerializedError }
  | { type: "escalate"; id: number; alert: Alert; executionName: string }
  | { type: "resolveIncident"; id: number; subject: string; rule: string; detail: string }
  | { type: "status"; op: "inc" | "set"; name: string; value: number | string }
  | { type: "log"; component: string; message: string }
  | { type: "stopped" };

export const serializeError = (error: unknown): SerializedError => ({
  name: (error as Error)?.name ?? "Error",
  message: (error as Error)?.message ?? String(error),
});

/** The error a serialized failure stands for on this side (same name and message). */
export function deserializeError(error: SerializedError): Error {
  const out = new Error(error.message);
  out.name = error.name;
  return out;
}

/**
 * An invocation's event as it crosses to a scoring worker (issue 13): the Lambda event with its `Records` in columns
 * — a field every record has the same value of (`eventSource`, `awsRegion`, the ARNs, …) sent once, the others as
 * one array per field, and `eventID` left out when it is `<shardId>:<sequenceNumber>` for every record — instead of
 * 1,000 objects of 11 fields each to serialize and rebuild. `unpackEvent` gives back an event equal to the one
 * packed, keys in the same order. An event whose records do not all have one shape is sent as it is.
 */
export type PackedEvent =
  | { packed: false; event: Record<string, unknown> }
  | {
      packed: true;
      /** The event's own keys in order (`Records` among them) and their values (`Records` left out). */
      keys: string[];
      rest: Record<string, unknown>;
      count: number;
      records: PackedColumns;
      kinesis: PackedColumns;
      /** True when every record's `eventID` is `${shardId}:${kinesis.sequenceNumber}` (then not in `records`). */
      derivedEventId: boolean;
    };

interface PackedColumns {
  keys: string[];
  same: Record<string, unknown>;
  columns: Record<string, unknown[]>;
}

export function packEvent(event: Record<string, unknown>): PackedEvent {
  const records = event.Records;
  if (!Array.isArray(records) || records.length === 0) return { packed: false, event };
  const shardId = event.shardId;
  const outer = packColumns(records as Record<string, unknown>[], "kinesis");
  if (outer === undefined) return { packed: false, event };
  const inner = packColumns(records.map((record) => (record as Record<string, unknown>).kinesis));
  if (inner === undefined) return { packed: false, event };
  const derivedEventId =
    typeof shardId === "string" &&
    outer.keys.includes("eventID") &&
    records.every(
      (record) =>
        (record as { eventID?: unknown }).eventID ===
        `${shardId}:${(record as { kinesis: { sequenceNumber?: unknown } }).kinesis.sequenceNumber}`,
    );
  if (derivedEventId) {
    delete outer.columns.eventID;
    delete outer.same.eventID;
  }
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(event)) if (key !== "Records") rest[key] = event[key];
  return {
    packed: true,
    keys: Object.keys(event),
    rest,
    count: records.length,
    records: outer,
    kinesis: inner,
    derivedEventId,
  };
}

export function unpackEvent(packed: PackedEvent): Record<string, unknown> {
  if (!packed.packed) return packed.event;
  const { records: outer, kinesis: inner, count } = packed;
  const shardId = packed.rest.shardId as string;
  const records = new Array<Record<string, unknown>>(count);
  for (let i = 0; i < count; i++) {
    const kinesis: Record<string, unknown> = {};
    for (const key of inner.keys) kinesis[key] = key in inner.same ? inner.same[key] : inner.columns[key][i];
    const record: Record<string, unknown> = {};
    for (const key of outer.keys) {
      if (key === "kinesis") record[key] = kinesis;
      else if (key === "eventID" && packed.derivedEventId)
        record[key] = `${shardId}:${kinesis.sequenceNumber as string}`;
      else record[key] = key in outer.same ? outer.same[key] : outer.columns[key][i];
    }
    records[i] = record;
  }
  const event: Record<string, unknown> = {};
  for (const key of packed.keys) event[key] = key === "Records" ? records : packed.rest[key];
  return event;
}

/**
 * Columns of `items` (plain objects with the same keys in the same order; `nested` must be a plain object in each,
 * packed separately), or undefined when they do not have one shape. Only primitives count as the same value.
 */
function packColumns(items: unknown[], nested?: string): PackedColumns | undefined {
  const first = items[0];
  if (!isPlainObject(first)) return undefined;
  const keys = Object.keys(first);
  const same: Record<string, unknown> = {};
  const columns: Record<string, unknown[]> = {};
  for (const key of keys) {
    if (key === nested) continue;
    const value = first[key];
    if (value === null || typeof value !== "object") same[key] = value;
  }
  for (const item of items) {
    if (!isPlainObject(item)) return undefined;
    const itemKeys = Object.keys(item);
    if (itemKeys.length !== keys.length || itemKeys.some((key, i) => key !== keys[i])) return undefined;
    if (nested !== undefined && !isPlainObject(item[nested])) return undefined;
  }
  for (const key of keys) {
    if (key === nested) continue;
    if (key in same && items.every((item) => (item as Record<string, unknown>)[key] === same[key])) continue;
    delete same[key];
    columns[key] = items.map((item) => (item as Record<string, unknown>)[key]);
  }
  return { keys, same, columns };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}
