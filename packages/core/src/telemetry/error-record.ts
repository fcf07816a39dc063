import { createHash } from "node:crypto";
import { z } from "zod";
import { defaultPhiCatalogue, type Deidentifier, type PhiCatalogue } from "../privacy/deidentifier.ts";
import { createFieldMatcher } from "../privacy/field-matcher.ts";
import { ValidationError } from "../shared/errors.ts";
import type { Envelope } from "./envelope.ts";
import { UnknownDeviceError } from "./ingest-errors.ts";
import { base64DecodedLength, decodePayload } from "./payload-decoder.ts";
import { defaultPayloadLimits } from "./payload-limits.ts";
import { payloadSources, resolvePayloadSource } from "./payload-sources.ts";
import { readingSourceSchema } from "./reading.ts";
import { formatPath } from "./safe-issues.ts";

/** At most this many field descriptions are kept in an error record. */
export const MAX_ERROR_FIELDS = 256;

export const errorFieldSchema = z
  .object({
    /** Path of the field (`metrics.temp`, `readings[0]`); keys that do not look like field names show as `*`. */
    path: z.string(),
    /** JSON type of its value: `string`, `number`, `boolean`, `null`, `object`, `array`. */
    type: z.enum(["string", "number", "boolean", "null", "object", "array"]),
  })
  .strict();
export type ErrorField = z.infer<typeof errorFieldSchema>;

/**
 * One rejected input, as written to `lake/errors/` (ADR 0200). It never holds a value from the payload, the topic
 * or the device id in clear — values can be PHI wherever a sender put them (unknown fields, near-miss keys, the
 * device id, the topic). It carries what is needed to see why and to group: the code and reason, the issues (paths
 * and what is wrong), the paths and JSON types of the payload's fields, the topic *pattern*, keyed tokens of the
 * topic and device id, size and SHA-256 of the payload. The payload itself stays sealed with the raw zone's key in
 * `raw/` (local: `driftwatch raw decrypt --from/--to` around `receivedAt`; find it by `payloadSha256`).
 */
export const errorRecordSchema = z
  .object({
    kind: z.literal("error"),
    recordId: z.string(),
    /** Stable machine code, e.g. `INVALID_JSON`, `NESTING_TOO_DEEP`, `UNKNOWN_DEVICE`, `INTERNAL_ERROR`. */
    code: z.string(),
    /** Error class name. */
    error: z.string(),
    /** Which stage refused the input: `broker`, `rule`, `firehose`, `transform`. */
    stage: z.enum(["broker", "rule", "firehose", "transform"]),
    /** Human-readable reason (names fields, never quotes values). */
    reason: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() }).strict()),
    /** The topic with every level that is not a literal level of an accepted topic filter replaced by `+`. */
    topicPattern: z.string().optional(),
    /** Keyed token of the whole topic (groups rejections by topic without showing it). */
    topicToken: z.string().optional(),
    source: readingSourceSchema.optional(),
    /** Keyed token of the device id, when the payload or topic names one (`deidentifier.tokenize("deviceId", …)`). */
    deviceToken: z.string().optional(),
    /** Broker receive time, ISO 8601. */
    receivedAt: z.string().optional(),
    /** Time the record was rejected, ISO 8601. */
    rejectedAt: z.string(),
    payloadBytes: z.number().int().nonnegative().optional(),
    payloadSha256: z.string().optional(),
    /** Paths and JSON types of the payload's fields (when it parsed within the limits); never values. */
    fields: z.array(errorFieldSchema),
    /** Paths of the fields the PHI catalogue matched (catalogued or near miss). */
    strippedFields: z.array(z.string()),
    /** Paths of the fields matched only as near misses of a catalogued name (candidates for the catalogue). */
    nearMissFields: z.array(z.string()).optional(),
  })
  .strict();
export type ErrorRecord = z.infer<typeof errorRecordSchema>;
export type RejectionStage = ErrorRecord["stage"];

export interface ErrorRecordOptions {
  /** Keys the topic and device tokens; without it they are left out. */
  deidentifier?: Deidentifier;
  /** Used to flag PHI field paths when there is no deidentifier (default: seed 003's catalogue). */
  catalogue?: PhiCatalogue;
  /** Rejection time (default now). */
  now?: number;
  /** The record's raw bytes when it did not hold an envelope (only size and hash are kept). */
  data?: Uint8Array;
  maxPayloadBytes?: number;
  /** Default `transform`. */
  stage?: RejectionStage;
}

const literalLevels = new Set(
  payloadSources.flatMap((source) =>
    source.topicFilter.split("/").filter((level) => level !== "+" && level !== "#"),
  ),
);

/**
 * The topic with its variable levels hidden: a level is kept only when it is a literal level of an accepted topic
 * filter (`dt`, `telemetry`, `LifeSupportDevice`, …); everything else (device ids, sites, anything a sender put in
 * a topic) becomes `+`. Over-long topics are cut at 16 levels (`/#`).
 */
export function topicPattern(topic: string): string {
  const levels = topic.split("/");
  const shown = levels.slice(0, 16).map((level) => (literalLevels.has(level) ? level : "+"));
  return levels.length > 16 ? `${shown.join("/")}/#` : shown.join("/");
}

/** Builds the error record of an input that a stage rejected (`prepare`, envelope parsing, the broker, a rule). */
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
    stage: options.stage ?? "transform",
    // Only our own messages are kept: a foreign error's message may quote input (JSON.parse's does).
    reason: validation?.message ?? "internal error while preparing the record",
    issues: validation ? [...validation.issues] : [],
    rejectedAt: new Date(options.now ?? Date.now()).toISOString(),
    fields: [],
    strippedFields: [],
  };
  const deidentifier = options.deidentifier;
  const deviceToken = (id: string | undefined) => {
    if (deidentifier !== undefined && id !== undefined && id !== "")
      record.deviceToken = deidentifier.tokenize("deviceId", id);
  };
  if (error instanceof UnknownDeviceError) deviceToken(error.deviceId);

  if (envelope === undefined) {
    if (options.data !== undefined) {
      record.payloadBytes = options.data.length;
      record.payloadSha256 = createHash("sha256").update(options.data).digest("hex");
    }
    return record;
  }

  record.topicPattern = topicPattern(envelope.topic);
  if (deidentifier !== undefined) record.topicToken = deidentifier.tokenize("topic", envelope.topic);
  const source = resolvePayloadSource(envelope.topic);
  if (source !== undefined) record.source = source.source;
  const received = new Date(envelope.receivedAt);
  if (!Number.isNaN(received.getTime())) record.receivedAt = received.toISOString();

  const maxBytes = options.maxPayloadBytes ?? defaultPayloadLimits.maxBytes;
  const bytes = base64DecodedLength(envelope.payload);
  record.payloadBytes = bytes;
  if (bytes > 8 * maxBytes) return record; // far too large to hash cheaply
  const buffer = Buffer.from(envelope.payload, "base64");
  record.payloadBytes = buffer.length;
  record.payloadSha256 = createHash("sha256").update(buffer).digest("hex");
  if (buffer.length > maxBytes) return record;

  let parsed: Record<string, unknown> | undefined;
  try {
    // Within the same limits as `prepare`: a payload refused for its depth or size is not walked here either.
    parsed = decodePayload(envelope.payload, maxBytes).value;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) return record;
  if (record.deviceToken === undefined && source !== undefined) {
    try {
      deviceToken(source.partitionKey(envelope.topic, parsed));
    } catch {
      // no device id to token
    }
  }
  const isPhi = deidentifier
    ? (key: string) =>
        deidentifier.classify(key) === undefined ? undefined : { nearMiss: deidentifier.isNearMiss(key) }
    : catalogueMatcher(options.catalogue ?? defaultPhiCatalogue);
  const nearMiss: string[] = [];
  describeFields(parsed, (path, value, key) => {
    const formatted = formatPath(path);
    if (key !== undefined) {
      const phi = isPhi(key);
      if (phi !== undefined) {
        record.strippedFields.push(formatted);
        if (phi.nearMiss) nearMiss.push(formatted);
      }
    }
    if (record.fields.length < MAX_ERROR_FIELDS)
      record.fields.push({ path: formatted, type: jsonType(value) });
  });
  if (nearMiss.length > 0) record.nearMissFields = nearMiss;
  return record;
}

function catalogueMatcher(catalogue: PhiCatalogue): (key: string) => { nearMiss: boolean } | undefined {
  const matcher = createFieldMatcher([...catalogue.tokenize, ...catalogue.vault]);
  return (key) => {
    const match = matcher.match(key);
    return match === undefined ? undefined : { nearMiss: match.nearMiss };
  };
}

function jsonType(value: unknown): ErrorField["type"] {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const type = typeof value;
  return type === "string" || type === "number" || type === "boolean" ? type : "object";
}

/** Visits every field and array element, breadth first, without recursion. */
function describeFields(
  root: Record<string, unknown>,
  visit: (path: (string | number)[], value: unknown, key: string | undefined) => void,
): void {
  const queue: { path: (string | number)[]; value: unknown }[] = [{ path: [], value: root }];
  for (let head = 0; head < queue.length && head < 4 * MAX_ERROR_FIELDS; head++) {
    const { path, value } = queue[head];
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        visit([...path, index], item, undefined);
        if (item !== null && typeof item === "object") queue.push({ path: [...path, index], value: item });
      });
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        visit([...path, key], item, key);
        if (item !== null && typeof item === "object") queue.push({ path: [...path, key], value: item });
      }
    }
  }
}
