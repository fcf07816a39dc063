import { ValidationError } from "../shared/errors.ts";
import { MAX_PAYLOAD_BYTES } from "./envelope.ts";
import { formatPath } from "./safe-issues.ts";

/**
 * Limits every payload is held to before and while it is parsed, so that no input can exhaust a handler's stack or
 * heap (a 40,000-deep nested array, a million keys, a 100 KB string). Each limit has its own error code:
 *
 * | limit            | default | code                |
 * |------------------|---------|---------------------|
 * | `maxBytes`       | 128 KiB | `PAYLOAD_TOO_LARGE` (AWS IoT Core's own message limit) |
 * | `maxDepth`       | 16      | `NESTING_TOO_DEEP`  |
 * | `maxKeys`        | 1,024   | `TOO_MANY_KEYS` (object members in the whole payload) |
 * | `maxStringChars` | 4,096   | `STRING_TOO_LONG` (one string value) |
 * | `maxKeyChars`    | 128     | `KEY_TOO_LONG` (one field name) |
 * | `maxMetrics`     | 256     | `TOO_MANY_METRICS` (metrics of one reading, after normalization) |
 * | `maxMetricMagnitude` | 1e15 | `METRIC_OUT_OF_RANGE` (absolute value of one metric) |
 *
 * The magnitude limit keeps window aggregates finite: a variance of ±1e200 readings overflows to `Infinity`, which
 * neither the window state (JSON) nor DynamoDB can hold — the cause of the scoring path's `TransientError`s on bad
 * input (issue 11). 1e15 leaves squares and sums of millions of readings far below `Number.MAX_VALUE`.
 */
export interface PayloadLimits {
  maxBytes: number;
  maxDepth: number;
  maxKeys: number;
  maxStringChars: number;
  maxKeyChars: number;
  maxMetrics: number;
  maxMetricMagnitude: number;
}

export const defaultPayloadLimits: Readonly<PayloadLimits> = Object.freeze({
  maxBytes: MAX_PAYLOAD_BYTES,
  maxDepth: 16,
  maxKeys: 1024,
  maxStringChars: 4096,
  maxKeyChars: 128,
  maxMetrics: 256,
  maxMetricMagnitude: 1e15,
});

export type PayloadLimitCode =
  | "NESTING_TOO_DEEP"
  | "TOO_MANY_KEYS"
  | "STRING_TOO_LONG"
  | "KEY_TOO_LONG"
  | "TOO_MANY_METRICS"
  | "METRIC_OUT_OF_RANGE";

/** A payload exceeds one of the structural limits (the byte limit has its own `PayloadTooLargeError`). */
export class PayloadLimitError extends ValidationError {
  readonly limit: number;

  constructor(code: PayloadLimitCode, message: string, limit: number, path = "(root)") {
    super(message, { code, issues: [{ path, message }] });
    this.limit = limit;
  }
}

/**
 * Scans JSON text once, without recursion and without building anything, and throws a `PayloadLimitError` at the
 * first limit exceeded. It does not validate JSON (`JSON.parse` does that afterwards, on text now known to be
 * bounded); malformed text simply passes or trips a limit. Cost: O(length), O(1) memory.
 */
export function checkJsonLimits(text: string, limits: Readonly<PayloadLimits> = defaultPayloadLimits): void {
  let depth = 0;
  let keys = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i + 1;
      i++;
      while (i < length) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      const chars = Math.min(i, length) - start;
      // A string followed by `:` is a field name.
      let j = i + 1;
      while (j < length && isSpace(text.charCodeAt(j))) j++;
      if (j < length && text.charCodeAt(j) === 58 /* : */) {
        keys++;
        if (keys > limits.maxKeys) {
          throw new PayloadLimitError(
            "TOO_MANY_KEYS",
            `the payload has more than ${limits.maxKeys} fields`,
            limits.maxKeys,
          );
        }
        if (chars > limits.maxKeyChars) {
          throw new PayloadLimitError(
            "KEY_TOO_LONG",
            `a field name is longer than ${limits.maxKeyChars} characters`,
            limits.maxKeyChars,
          );
        }
      } else if (chars > limits.maxStringChars) {
        throw new PayloadLimitError(
          "STRING_TOO_LONG",
          `a string value is longer than ${limits.maxStringChars} characters`,
          limits.maxStringChars,
        );
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth > limits.maxDepth) {
        throw new PayloadLimitError(
          "NESTING_TOO_DEEP",
          `objects and arrays are nested more than ${limits.maxDepth} levels deep`,
          limits.maxDepth,
        );
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth > 0) depth--;
    }
  }
}

/** Throws `TOO_MANY_METRICS` when a reading carries more metrics than allowed. */
export function checkMetricCount(
  metrics: Readonly<Record<string, unknown>>,
  limits: Readonly<PayloadLimits> = defaultPayloadLimits,
): void {
  const count = Object.keys(metrics).length;
  if (count > limits.maxMetrics) {
    throw new PayloadLimitError(
      "TOO_MANY_METRICS",
      `the reading has ${count} metrics, more than the limit of ${limits.maxMetrics}`,
      limits.maxMetrics,
      "metrics",
    );
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Throws `METRIC_OUT_OF_RANGE` for a metric whose absolute value exceeds `maxMetricMagnitude`. */
export function checkMetricValues(
  metrics: Readonly<Record<string, number>>,
  limits: Readonly<PayloadLimits> = defaultPayloadLimits,
  pathPrefix: readonly string[] = [],
): void {
  const max = limits.maxMetricMagnitude;
  let out: string[] | undefined;
  for (const name of Object.keys(metrics)) if (Math.abs(metrics[name]) > max) (out ??= []).push(name);
  if (out === undefined) return;
  const paths = out.map((name) => formatPath([...pathPrefix, name]));
  throw new PayloadLimitError(
    "METRIC_OUT_OF_RANGE",
    `metric value(s) beyond ±${limits.maxMetricMagnitude} in ${paths.join(", ")}`,
    limits.maxMetricMagnitude,
    paths[0],
  );
}
