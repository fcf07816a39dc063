import { z } from "zod";
import type { ReadingSource } from "../reading.ts";
import { MissingDeviceIdError, NonFiniteMetricError, SchemaValidationError } from "../ingest-errors.ts";
import { describeIssue, formatPath } from "../safe-issues.ts";

/** What a payload shape contributes to a reading, before de-identification and enrichment. */
export interface ParsedPayload {
  deviceId: string;
  /** Event time, epoch ms. */
  tsMs: number;
  metrics: Record<string, number>;
  /** Non-PHI attributes (topic segments, categorical fields). */
  tags: Record<string, string>;
  /** Site named by the topic, if the shape has one (canonical). */
  site?: string;
}

/**
 * One accepted payload shape: the topic it arrives on, how the IoT rule's Kinesis action derives its partition
 * key (an IoT substitution template, so AWS and local mode agree), and how it maps to a reading.
 */
export interface PayloadSource {
  source: ReadingSource;
  /** MQTT topic filter of the IoT rule. */
  topicFilter: string;
  /** Kinesis partition key as an IoT rule substitution template; evaluates to the device id. */
  partitionKeyTemplate: string;
  /** Name of the payload field (or topic segment) that identifies the device, for error messages. */
  deviceIdField: string;
  /** Device id as the partition key template computes it, or undefined when it would be empty. */
  partitionKey(topic: string, payload: Record<string, unknown> | undefined): string | undefined;
  /** Maps a payload to a reading's parts; throws `ValidationError`s. */
  parse(topic: string, payload: Record<string, unknown>): ParsedPayload;
}

// eslint-disable-next-line no-control-regex -- detecting control characters is the point
const CONTROL = /[\u0000-\u001F\u007F]/;

export const deviceIdSchema = z
  .string()
  .min(1)
  .max(128)
  .refine((id) => !CONTROL.test(id), { message: "must not contain control characters" });

export const METRIC_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/;
export const MAX_METRICS = 64;

export const metricNameSchema = z.string().refine((name) => METRIC_NAME.test(name), {
  message: "metric names are 1-64 of A-Z a-z 0-9 _ . : - and start with a letter, digit or _",
});

/** Throws `MissingDeviceIdError` unless `value` is a present, non-empty value. */
export function requireDeviceId(value: unknown, field: string): void {
  if (value === undefined || value === null || value === "") throw new MissingDeviceIdError(field);
}

/** True when `value` is a device id `deviceIdSchema` accepts (a string of 1-128 characters, no control characters). */
export function isDeviceId(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= 128 && !CONTROL.test(value);
}

/** True for a number `z.number()` accepts (any number but NaN; infinities are caught later, with their paths). */
export function isZodNumber(value: unknown): value is number {
  return typeof value === "number" && !Number.isNaN(value);
}

/**
 * True when `value` is a metrics object `z.record(metricNameSchema, z.number())` with 1 to `MAX_METRICS` entries
 * accepts and outputs unchanged: a plain object whose every own key is a metric name and every value a number. A
 * `__proto__` key (an own property after `JSON.parse`, which zod leaves out of its output) is left to zod.
 */
export function isMetricRecord(value: unknown): value is Record<string, number> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  let count = 0;
  for (const name in value) {
    if (!Object.hasOwn(value, name)) return false;
    if (name === "__proto__" || !METRIC_NAME.test(name)) return false;
    if (!isZodNumber((value as Record<string, unknown>)[name])) return false;
    count++;
  }
  return count > 0 && count <= MAX_METRICS;
}

/**
 * A cheap check for the payloads a schema accepts, returning exactly what `schema.parse` would (or the parts of it
 * the source uses), or undefined to let zod decide. It must never accept what zod rejects; zod stays the source of
 * truth for every error (ADR 0204).
 */
export type FastParse<T> = (value: Record<string, unknown>) => T | undefined;

/**
 * Parses with zod, turning failures into a `SchemaValidationError` whose issues never quote values. With `fast`,
 * well-formed payloads skip zod (the per-record cost of the ingest and scoring paths, ADR 0204); anything `fast`
 * does not accept goes through zod as before, so errors are unchanged.
 */
export function parseWithSchema<T extends z.ZodTypeAny>(
  schema: T,
  value: Record<string, unknown>,
  what: string,
  fast?: FastParse<z.output<T>>,
): z.output<T> {
  if (fast !== undefined) {
    const quick = fast(value);
    if (quick !== undefined) return quick;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map(describeIssue);
  const fields = [...new Set(issues.map((issue) => issue.path))].join(", ");
  throw new SchemaValidationError(`${what} payload is invalid: ${fields}`, issues);
}

/** Throws `NonFiniteMetricError` if any metric is not finite (JSON like `1e999` parses to Infinity). */
export function assertFiniteMetrics(metrics: Record<string, number>, prefix: (string | number)[] = []): void {
  let bad: string[] | undefined;
  for (const name of Object.keys(metrics)) {
    if (!Number.isFinite(metrics[name])) (bad ??= []).push(formatPath([...prefix, name]));
  }
  if (bad) throw new NonFiniteMetricError(bad);
}

/** A partition key as an IoT substitution template `${field}` evaluates it: strings and numbers, non-empty. */
export function templateValue(value: unknown): string | undefined {
  if (typeof value === "string") return value.length > 0 && value.length <= 256 ? value : undefined;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}
