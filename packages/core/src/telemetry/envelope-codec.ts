import { envelopeSchema, type Envelope } from "./envelope.ts";
import { InvalidEnvelopeError } from "./ingest-errors.ts";
import { describeIssue } from "./safe-issues.ts";

/**
 * Reads the envelope a Firehose or Kinesis record carries (the IoT rule's SELECT output, as JSON; a trailing
 * newline from the action's record separator is allowed). Throws `InvalidEnvelopeError` otherwise.
 */
export function parseEnvelope(data: Uint8Array | string): Envelope {
  const text =
    typeof data === "string"
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidEnvelopeError("the record is not a JSON envelope {topic, receivedAt, payload}");
  }
  // Fast path for the well-formed case (the rule engine always writes this shape); zod explains the rest.
  if (value !== null && typeof value === "object") {
    const { topic, receivedAt, payload, messageId } = value as Record<string, unknown>;
    if (
      typeof topic === "string" &&
      topic.length > 0 &&
      typeof receivedAt === "number" &&
      Number.isFinite(receivedAt) &&
      typeof payload === "string" &&
      (messageId === undefined || typeof messageId === "string")
    ) {
      return messageId === undefined
        ? { topic, receivedAt, payload }
        : { topic, receivedAt, payload, messageId };
    }
  }
  const result = envelopeSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidEnvelopeError(
      "the record is not an envelope {topic, receivedAt, payload}",
      result.error.issues.map(describeIssue),
    );
  }
  return result.data;
}

/** Reads an envelope from a record's base64 data (Firehose `data`, Kinesis `kinesis.data`). */
export function parseEnvelopeBase64(data: string): Envelope {
  return parseEnvelope(Buffer.from(data, "base64").toString("utf8"));
}
