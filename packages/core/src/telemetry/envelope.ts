import { z } from "zod";

/**
 * What the IoT topic rules (and local mode's rule routing) hand to Firehose and Kinesis for every MQTT
 * message: the payload base64-encoded, so that malformed JSON and binary garbage still reach the
 * transformation and become error records instead of being dropped by the rules engine.
 *
 * IoT SQL: `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt FROM '…'`
 */
export const envelopeSchema = z.object({
  topic: z.string().min(1),
  receivedAt: z.number().finite(),
  payload: z.string(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** Largest payload accepted (AWS IoT Core's own message limit). */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

export function encodeEnvelope(topic: string, payload: Uint8Array | string, receivedAt: number): Envelope {
  const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
  return { topic, receivedAt, payload: bytes.toString("base64") };
}
