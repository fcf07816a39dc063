import { MalformedPayloadError, NonFiniteMetricError, PayloadTooLargeError } from "./ingest-errors.ts";
import { checkJsonLimits, defaultPayloadLimits, type PayloadLimits } from "./payload-limits.ts";
import { formatPath } from "./safe-issues.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** C0 controls other than tab, LF, VT, FF, CR, and DEL: never in a text payload. */
// eslint-disable-next-line no-control-regex -- detecting control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000E-\u001F\u007F]/;

/** Decoded size of a base64 string, without decoding it. */
export function base64DecodedLength(base64: string): number {
  let length = base64.length;
  while (length > 0 && (base64.charCodeAt(length - 1) === 61 /* = */ || base64.charCodeAt(length - 1) <= 32))
    length--;
  return Math.floor((length * 3) / 4);
}

export interface DecodedPayload {
  /** The parsed JSON object. */
  value: Record<string, unknown>;
  bytes: number;
}

/**
 * Turns an envelope's base64 payload into a JSON object, rejecting, in this order: payloads over the size limit
 * (checked before decoding), empty payloads, bytes that are not UTF-8 text or hold control characters (`BINARY`),
 * text over a structural limit (`NESTING_TOO_DEEP`, `TOO_MANY_KEYS`, `STRING_TOO_LONG`, `KEY_TOO_LONG`; checked
 * by a linear scan before `JSON.parse`, see `payload-limits.ts`), text that is not JSON (`INVALID_JSON`; `NaN`/`Infinity` literals, as Python's `json.dumps` writes them, are
 * reported as `NON_FINITE_METRIC` with their paths), and JSON that is not an object (`NOT_AN_OBJECT`).
 * Error messages never quote the payload (JSON.parse's own messages do, so they are not kept).
 */
export function decodePayload(
  base64: string,
  limitsOrMaxBytes: number | Partial<PayloadLimits> = defaultPayloadLimits,
): DecodedPayload {
  return decodePayloadWithin(
    base64,
    typeof limitsOrMaxBytes === "number"
      ? { ...defaultPayloadLimits, maxBytes: limitsOrMaxBytes }
      : { ...defaultPayloadLimits, ...limitsOrMaxBytes },
  );
}

/** `decodePayload` with complete limits (the per-record path: no merged copy of the limits per call). */
export function decodePayloadWithin(base64: string, limits: Readonly<PayloadLimits>): DecodedPayload {
  const maxBytes = limits.maxBytes;
  const estimated = base64DecodedLength(base64);
  if (estimated > maxBytes + 2) throw new PayloadTooLargeError(estimated, maxBytes);
  const buffer = Buffer.from(base64, "base64");
  if (buffer.length > maxBytes) throw new PayloadTooLargeError(buffer.length, maxBytes);
  const text = decodeText(buffer);
  checkJsonLimits(text, limits);
  return { value: parseJsonObject(text), bytes: buffer.length };
}

/** Decodes UTF-8 text; throws `BINARY` for anything else. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new MalformedPayloadError("EMPTY_PAYLOAD", "the payload is empty");
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new MalformedPayloadError("BINARY", "the payload is not UTF-8 text (binary data)");
  }
  if (CONTROL_CHARS.test(text)) {
    throw new MalformedPayloadError("BINARY", "the payload contains control characters (binary data)");
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") throw new MalformedPayloadError("EMPTY_PAYLOAD", "the payload is empty");
  return text;
}

/** Parses text as a JSON object (see `decodePayload` for the errors). */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const nonFinite = findNonFiniteLiterals(text);
    if (nonFinite.length > 0) throw new NonFiniteMetricError(nonFinite);
    throw new MalformedPayloadError("INVALID_JSON", "the payload is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MalformedPayloadError(
      "NOT_AN_OBJECT",
      `the payload is JSON but not an object (it is ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`})`,
    );
  }
  return value as Record<string, unknown>;
}

const SENTINEL = "\u0000non-finite\u0000";

/**
 * If `text` is JSON except for bare `NaN`, `Infinity` or `-Infinity` literals, returns the paths of those
 * literals; otherwise returns []. Literals inside strings are left alone.
 */
export function findNonFiniteLiterals(text: string): string[] {
  let replaced = "";
  let last = 0;
  let inString = false;
  let found = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    for (const literal of ["-Infinity", "Infinity", "NaN"]) {
      if (text.startsWith(literal, i)) {
        replaced += `${text.slice(last, i)}"\\u0000non-finite\\u0000"`;
        i += literal.length - 1;
        last = i + 1;
        found = true;
        break;
      }
    }
  }
  if (!found) return [];
  replaced += text.slice(last);
  let value: unknown;
  try {
    value = JSON.parse(replaced);
  } catch {
    return [];
  }
  const paths: string[] = [];
  collectSentinels(value, [], paths);
  return paths;
}

function collectSentinels(value: unknown, path: (string | number)[], out: string[]): void {
  if (value === SENTINEL) {
    out.push(formatPath(path));
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => collectSentinels(item, [...path, index], out));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) collectSentinels(item, [...path, key], out);
  }
}
