import { z } from "zod";
import { attributionEntrySchema } from "../alerts/alert.ts";

/**
 * One scored reading, as archived to `lake/scores/` (NDJSON). De-identified like `lake/readings/` (the reading was
 * prepared without the vault: tokens, no PHI). `shardId` + `sequenceNumber` identify a Kinesis record, so
 * at-least-once duplicates can be removed downstream.
 */
export const scoredRecordSchema = z.object({
  deviceId: z.string(),
  ts: z.string(),
  receivedAt: z.string(),
  /** When the record was written to the stream (its window is by this time). */
  arrivedAt: z.string(),
  windowStart: z.string(),
  shardId: z.string(),
  sequenceNumber: z.string(),
  modelKey: z.string(),
  detectorKey: z.string(),
  manufacturer: z.string(),
  model: z.string(),
  site: z.string().optional(),
  metrics: z.record(z.number()),
  tags: z.record(z.string()).default({}),
  score: z.number(),
  grade: z.number(),
  /**
   * The reading is anomalous under some rule (it counts in its window's `anomalies`), whether or not it started an
   * alert: an anomaly inside an episode that already alerted is still one (ADR 0606).
   */
  anomaly: z.boolean(),
  attribution: z.array(attributionEntrySchema),
  /**
   * Alert rules that found this reading anomalous (`anomaly`, `bound:<metric>:<side>`, `stuck:<metric>` — the
   * latter on every reading of a stuck run; the alert starts once per run), whether or not they started an alert.
   */
  rules: z.array(z.string()),
  /** Milliseconds from arrival in the stream to the end of scoring. */
  latencyMs: z.number(),
});
export type ScoredRecord = z.infer<typeof scoredRecordSchema>;
