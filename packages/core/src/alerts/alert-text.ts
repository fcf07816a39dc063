import type { AlertCause } from "./alert.ts";

/**
 * Alert text that tells the truth (issue 8): the rule, the metrics that caused the alert with their values and the
 * range they were expected in, and only those metrics. Device ids, metric names and values only (never PHI).
 */

/** A number for people: integers as they are, others with at most 4 significant digits (no exponent). */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const digits = Math.abs(value) >= 1000 ? 1 : Math.abs(value) >= 1 ? 3 : 4;
  return String(Number(value.toFixed(digits)));
}

/** `0–150`, `≤ 150`, `≥ 0` (ASCII: `0..150`, `<= 150`, `>= 0`). */
export function formatRange(expected: AlertCause["expected"]): string | undefined {
  if (!expected) return undefined;
  const { min, max } = expected;
  if (min !== undefined && max !== undefined) return `${formatValue(min)}..${formatValue(max)}`;
  if (max !== undefined) return `<= ${formatValue(max)}`;
  if (min !== undefined) return `>= ${formatValue(min)}`;
  return undefined;
}

/** `pressure 180 HIGH (expected <= 150)`. */
export function describeCause(cause: AlertCause): string {
  const range = formatRange(cause.expected);
  const direction = cause.direction ? ` ${cause.direction}` : "";
  return `${cause.metric} ${formatValue(cause.value)}${direction}${range ? ` (expected ${range})` : ""}`;
}

export function describeCauses(causes: readonly AlertCause[]): string {
  return causes.map(describeCause).join(", ");
}

/** `<rule> on <device>: <causes>[; <detail>]`: the one-line text of an alert and of the incident it opens. */
export function alertText(input: {
  rule: string;
  subject: string;
  causes: readonly AlertCause[];
  detail?: string;
}): string {
  const causes = describeCauses(input.causes);
  const parts = [causes, input.detail].filter((p): p is string => Boolean(p));
  return `${input.rule} on ${input.subject}${parts.length ? `: ${parts.join("; ")}` : ""}`.slice(0, 300);
}
