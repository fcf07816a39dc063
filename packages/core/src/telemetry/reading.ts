import { z } from "zod";

/** The payload shapes Driftwatch accepts, one per topic family (see DESIGN.md "External contract"). */
export const readingSourceSchema = z.enum(["canonical", "medical", "weather", "fan"]);
export type ReadingSource = z.infer<typeof readingSourceSchema>;

/**
 * The canonical reading: what lands in `lake/readings/` and what the scoring path scores.
 * De-identified: catalogued PHI fields are gone (their values sit encrypted in the vault) and identifiers
 * the catalogue marks as tokenized (e.g. `patient_id`) appear only as keyed-hash tokens in `tags`.
 */
export const readingSchema = z.object({
  deviceId: z.string().min(1).max(128),
  /** Event time from the payload (ISO 8601, UTC). */
  ts: z.string(),
  /** Time the broker received the message (ISO 8601, UTC). */
  receivedAt: z.string(),
  topic: z.string(),
  source: readingSourceSchema,
  site: z.string().optional(),
  manufacturer: z.string(),
  model: z.string(),
  /** Numeric measurements, by the seed's field names (weather: the sensor type). All finite. */
  metrics: z.record(z.number().finite()),
  /**
   * Identity of the reading end to end (ADR 0203): keyed hash of its topic and payload bytes, so a client's
   * resend of the same message (MQTT DUP after a reconnect) has the same id and is counted once.
   */
  readingId: z.string().optional(),
  /** Non-numeric, non-PHI attributes and tokens (e.g. `patient_id` → `tok_…`, weather `sensor_id`). */
  tags: z.record(z.string()).default({}),
});
export type Reading = z.infer<typeof readingSchema>;
