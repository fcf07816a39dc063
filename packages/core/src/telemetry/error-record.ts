import { createHash } from "node:crypto";
import { z } from "zod";
import { defaultPhiCatalogue, type Deidentifier, type PhiCatalogue } from "../privacy/deidentifier.ts";
import { stripCatalogued } from "../privacy/strip-catalogued.ts";
import { ValidationError } from "../shared/errors.ts";
import { MAX_PAYLOAD_BYTES, type Envelope } from "./envelope.ts";
import { UnknownDeviceError } from "./ingest-errors.ts";
import { base64DecodedLength, decodePayload } from "./payload-decoder.ts";
import { resolvePayloadSource } from "./payload-sources.ts";
import { readingSourceSchema } from "./reading.ts";

/** Payloads larger than this (as stripped JSON) are not copied into their error record. */
export const MAX_ERROR_PAYLOAD_CHARS = 64 * 1024;

/**
 * One rejected input, as written to `lake/errors/`. PHI-stripped: it never holds a catalogued value — the payload
 * is included only when it parses as JSON, with vaulted fields removed and identifiers replaced by tokens (or
 * removed). Malformed payloads are represented by their size and SHA-256 only; the original is in the `raw/`
 * zone (encrypted with its own key) for replay, found by `recordId`/`payloadSha256`.
 */
export const errorRecordSchema = z.object({
  kind: z.literal("error"),
  recordId: z.string(),
  /** Stable machine code, e.g. `INVALID_JSON`, `UNKNOWN_DEVICE`, `INTERNAL_ERROR`. */
  code: z.string(),
  /** Error class name. */
  error: z.string(),
  /** Human-readable reason (names fields, never quotes values). */
  reason: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  topic: z.string().optional(),
  source: readingSourceSchema.optional(),
  /** Set when the device is known from the payload (e.g. `UNKNOWN_DEVICE`). */
  deviceId: z.string().optional(),
  /** Broker receive time, ISO 8601. */
  receivedAt: z.string().optional(),
  /** Time the record was rejected, ISO 8601. */
  rejectedAt: z.string(),
  payloadBytes: z.number().int().nonnegative().optional(),
  payloadSha256: z.string().optional(),
  /** The parsed payload without PHI, when it is a JSON object of reasonable size. */
  payload: z.record(z.unknown()).optional(),
  /** Paths of the catalogued fields removed or tokenized from `payload`. */
  strippedFields: z.array(z.string()),
});
export type ErrorRecord = z.infer<typeof errorRecordSchema>;

export interface ErrorRecordOptions {
  /** Used to keep tokenized identifiers as tokens; without it they are removed. */
  deidentifier?: Deidentifier;
  /** Used when there is no deidentifier (default: seed 003's catalogue). */
  catalogue?: PhiCatalogue;
  /** Rejection time (default now). */
  now?: number;
  /** The record's raw bytes when it did not hold an envelope (only size and hash are kept). */
  data?: Uint8Array;
  maxPayloadBytes?: number;
}

/** Builds the error record of an input that `prepare` (or envelope parsing) rejected. */
export function toErrorRecord(
  envelope: Envelope | undefined,
  error: unknown,
  recordId: string,
  options: ErrorRecordOptions = {},
): ErrorRecord {
  const validation = error instanceof ValidationError ? error : undefined;
  const record: ErrorRecord = {
    kind: "error",
    recordId,
    code: validation?.code ?? "INTERNAL_ERROR",
    error: validation?.name ?? (error instanceof Error ? error.name : "Error"),
    // Only our own messages are kept: a foreign error's message may quote input (JSON.parse's does).
    reason: validation?.message ?? "internal error while preparing the record",
    issues: validation ? [...validation.issues] : [],
    rejectedAt: new Date(options.now ?? Date.now()).toISOString(),
    strippedFields: [],
  };
  if (error instanceof UnknownDeviceError) record.deviceId = error.deviceId;

  if (envelope === undefined) {
    if (options.data !== undefined) {
      record.payloadBytes = options.data.length;
      record.payloadSha256 = createHash("sha256").update(options.data).digest("hex");
    }
    return record;
  }

  record.topic = envelope.topic;
  const source = resolvePayloadSource(envelope.topic);
  if (source !== undefined) record.source = source.source;
  const received = new Date(envelope.receivedAt);
  if (!Number.isNaN(received.getTime())) record.receivedAt = received.toISOString();

  const maxBytes = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const bytes = base64DecodedLength(envelope.payload);
  record.payloadBytes = bytes;
  if (bytes > maxBytes + 2) return record; // too large to hash cheaply or keep
  const buffer = Buffer.from(envelope.payload, "base64");
  record.payloadBytes = buffer.length;
  record.payloadSha256 = createHash("sha256").update(buffer).digest("hex");

  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = decodePayload(envelope.payload, maxBytes).value;
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined) {
    const stripped = options.deidentifier
      ? options.deidentifier.strip(parsed)
      : stripCatalogued(parsed, options.catalogue ?? defaultPhiCatalogue);
    record.strippedFields = stripped.removed;
    const json = JSON.stringify(stripped.value);
    if (json.length <= MAX_ERROR_PAYLOAD_CHARS) record.payload = stripped.value as Record<string, unknown>;
  }
  return record;
}
