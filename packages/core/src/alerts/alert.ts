import { z } from "zod";

/**
 * An alert raised by the scoring path and handed to the escalation state machine as its input.
 * `rule` identifies what fired: `anomaly` (RCF), `bound:<metric>:<high|low>` (static threshold),
 * `stuck:<metric>` (kind `threshold`: the same value repeated, ADR 0605), `silence` (a device with a
 * learned cadence quiet for several of its intervals and N windows), `silence:site` (most devices of one site
 * quiet together; `deviceId` is `site:<site>`). Incidents are deduplicated per (deviceId, rule). ADR 0606.
 * `metrics` and `causes` hold only the metrics that caused the alert.
 * Never carries PHI: device ids and tokens only.
 */
export const attributionEntrySchema = z.object({
  metric: z.string(),
  value: z.number(),
  contribution: z.number(),
  direction: z.enum(["HIGH", "LOW"]),
});
export type AttributionEntry = z.infer<typeof attributionEntrySchema>;

/** One metric that caused an alert: its value and the range it was expected in (bounds, or the series' usual range). */
export const alertCauseSchema = z.object({
  metric: z.string(),
  value: z.number(),
  expected: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
  direction: z.enum(["HIGH", "LOW"]).optional(),
});
export type AlertCause = z.infer<typeof alertCauseSchema>;

export const alertKindSchema = z.enum(["anomaly", "threshold", "silence"]);
export type AlertKind = z.infer<typeof alertKindSchema>;

export const alertSchema = z.object({
  /** Deterministic: hash of deviceId, rule and window start; also the execution name. */
  alertId: z.string().min(1).max(80),
  kind: alertKindSchema,
  rule: z.string().min(1),
  deviceId: z.string().min(1),
  site: z.string().optional(),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  modelKey: z.string().optional(),
  /** Event time of the reading that fired (ISO 8601). */
  ts: z.string(),
  windowStart: z.string(),
  score: z.number().optional(),
  grade: z.number().min(0).max(1).optional(),
  metrics: z.record(z.number()).default({}),
  attribution: z.array(attributionEntrySchema).default([]),
  /** The metrics that caused the alert, with values and expected ranges (empty for silence). */
  causes: z.array(alertCauseSchema).default([]),
  /** Devices a `silence:site` alert covers. */
  devices: z.array(z.string()).optional(),
  message: z.string(),
});
export type Alert = z.infer<typeof alertSchema>;
