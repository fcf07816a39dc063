import { z } from "zod";

/** Earliest and latest event times accepted (a device with an unset clock reports 1970; that is a bad input). */
export const MIN_EVENT_TIME_MS = Date.UTC(2000, 0, 1);
export const MAX_EVENT_TIME_MS = Date.UTC(2100, 0, 1);

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
const DIGITS = /^\d{1,16}$/;

/**
 * Parses an event time the seeds send: an ISO 8601 date-time (with or without zone; without a zone it is UTC —
 * seed 003's `2018-01-27T05:11:50` and Python's `datetime.isoformat()` in seed 001 carry none), epoch
 * milliseconds as a number (seed 000, seed 003's generator) or as a string of digits (the Kinesis Data Generator
 * template in seed 003 quotes it). Returns epoch ms, or a reason (never the value) when it is not acceptable.
 */
export function parseEventTime(value: unknown): { ok: true; ms: number } | { ok: false; reason: string } {
  const result = eventTimeOrReason(value);
  return typeof result === "number" ? { ok: true, ms: result } : { ok: false, reason: result };
}

/**
 * `parseEventTime` without the result object, for the per-record fast path of payload validation: epoch ms, or
 * undefined when the value is not acceptable (the zod schema then reports why).
 */
export function eventTimeMs(value: unknown): number | undefined {
  const result = eventTimeOrReason(value);
  return typeof result === "number" ? result : undefined;
}

/** Epoch ms, or the reason (never the value) the value is not an acceptable event time. */
function eventTimeOrReason(value: unknown): number | string {
  let ms: number;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "must be a finite number of epoch milliseconds";
    ms = Math.trunc(value);
  } else if (typeof value === "string") {
    if (DIGITS.test(value)) {
      ms = Number(value);
    } else {
      const parsed = parseIso(value);
      if (parsed === undefined) return "not an ISO 8601 date-time or epoch milliseconds";
      ms = parsed;
    }
  } else {
    return `expected an ISO 8601 string or epoch milliseconds, received ${kindOf(value)}`;
  }
  if (ms < MIN_EVENT_TIME_MS || ms >= MAX_EVENT_TIME_MS) {
    const hint =
      ms > 0 && ms < 10_000_000_000 && ms * 1000 >= MIN_EVENT_TIME_MS
        ? " (it looks like epoch seconds; send milliseconds)"
        : "";
    return `out of range: must be between 2000-01-01 and 2100-01-01${hint}`;
  }
  return ms;
}

function parseIso(text: string): number | undefined {
  const match = ISO_PATTERN.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = frac === undefined ? 0 : Math.trunc(Number(`0.${frac}`) * 1000);
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Reject days that overflow into the next month (2021-02-30).
  if (new Date(ms).getUTCDate() !== day) return undefined;
  if (z === undefined && sign !== undefined) {
    const offsetHours = Number(oh);
    const offsetMinutes = Number(om);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
    ms -= sign === "+" ? offset : -offset;
  }
  return ms;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A zod schema for an event-time field; transforms to epoch ms. */
export const eventTimeSchema = z.unknown().transform((value, ctx) => {
  if (value === undefined) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: "required (ISO 8601 string or epoch milliseconds)",
    });
    return z.NEVER;
  }
  const result = parseEventTime(value);
  if (!result.ok) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: result.reason });
    return z.NEVER;
  }
  return result.ms;
});
