import { z } from "zod";

/**
 * What the IoT topic rules (and local mode's rule routing) hand to Firehose and Kinesis for every MQTT
 * message: the payload base64-encoded, so that malformed JSON and binary garbage still reach the
 * transformation and become error records instead of being dropped by the rules engine.
 *
 * IoT SQL: `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt,
 * newuuid() AS messageId FROM '…'`
 *
 * `messageId` is unique per published message (the same on every action and every retry of an action): two
 * publishes with the same topic, payload and receive millisecond stay two records, while a retried put of one
 * message stays byte-identical, which is what the transformation's duplicate dropping relies on.
 */
export const envelopeSchema = z.object({
  topic: z.string().min(1),
  receivedAt: z.number().finite(),
  payload: z.string(),
  messageId: z.string().optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** Largest payload accepted (AWS IoT Core's own message limit). */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

export function encodeEnvelope(
  topic: string,
  payload: Uint8Array | string,
  receivedAt: number,
  messageId?: string,
): Envelope {
  // A view of the caller's bytes, not a copy (Buffer.from(Uint8Array) copies them).
  const bytes =
    typeof payload === "string"
      ? Buffer.from(payload, "utf8")
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const envelope: Envelope = { topic, receivedAt, payload: bytes.toString("base64") };
  if (messageId !== undefined) envelope.messageId = messageId;
  return envelope;
}
