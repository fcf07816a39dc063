import { z } from "zod";
import { attributionEntrySchema } from "../alerts/alert.ts";
import type { Detection } from "../alerts/anomaly-rule.ts";

/**
 * The detector's own verdict on a record (what the anomaly rule reads besides the score and attribution), archived so
 * a backtest can apply another rule set to the live detector's verdicts instead of running a forest (ADR 0903).
 * Absent on records archived before it existed.
 */
export const archivedDetectionSchema = z
  .object({
    /** The detector's grading found the record anomalous. */
    anomaly: z.boolean(),
    /** First anomaly of an episode of this series; absent: every anomaly is. */
    newEpisode: z.boolean().optional(),
    /** The model is calibrated; absent: it is once the forest gives scores. */
    calibrated: z.boolean().optional(),
    /** The detector's expected range per metric for this series (on anomalous records, for the alert text). */
    expected: z.record(z.object({ min: z.number(), max: z.number() }).strict()).optional(),
  })
  .strict();
export type ArchivedDetection = z.infer<typeof archivedDetectionSchema>;

/** The archived part of a detection (undefined fields left out, so the line stays short). */
export function archivedDetectionOf(detection: Detection): ArchivedDetection {
  const out: ArchivedDetection = { anomaly: detection.anomaly };
  if (detection.newEpisode !== undefined) out.newEpisode = detection.newEpisode;
  if (detection.calibrated !== undefined) out.calibrated = detection.calibrated;
  if (detection.expected !== undefined) {
    out.expected = {};
    for (const [metric, r] of Object.entries(detection.expected))
      out.expected[metric] = { min: r.min, max: r.max };
  }
  return out;
}

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
  /** The detector's verdict (additive; absent on records archived before it existed). */
  detection: archivedDetectionSchema.optional(),
});
export type ScoredRecord = z.infer<typeof scoredRecordSchema>;
