import { z } from "zod";

/**
 * Threshold rules, stored one item per scope in the thresholds table and resolved per device:
 * device > model > manufacturer > global (the most specific scope that defines a setting wins).
 *
 * Scope keys: `global`, `manufacturer#<manufacturer>`, `model#<manufacturer>#<model>`, `device#<deviceId>`.
 */
export const metricBoundsSchema = z
  .object({
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
  })
  .strict()
  .refine((b) => b.min !== undefined || b.max !== undefined, { message: "give min, max or both" })
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, {
    message: "min must not exceed max",
    path: ["min"],
  });
export type MetricBounds = z.infer<typeof metricBoundsSchema>;

export const MAX_STUCK_READINGS = 1_000_000;
const stuckCountSchema = z.number().int().min(0).max(MAX_STUCK_READINGS);
export const stuckReadingsSchema = z.union([
  stuckCountSchema,
  z.record(z.string().min(1), stuckCountSchema).refine((r) => Object.keys(r).length > 0, {
    message: 'give at least one metric, or "*" for every metric',
  }),
]);
export type StuckReadings = z.infer<typeof stuckReadingsSchema>;

export const thresholdScopeSchema = z
  .string()
  .regex(
    /^(global|manufacturer#[^#]+|model#[^#]+#[^#]+|device#.+)$/,
    "scope must be global, manufacturer#m, model#m#model or device#id",
  );

export const thresholdRuleSchema = z.object({
  scope: thresholdScopeSchema,
  /** Per-metric static bounds; a reading outside raises `bound:<metric>:<high|low>`. */
  bounds: z.record(metricBoundsSchema).default({}),
  /**
   * Raw RCF score above which a reading is an anomaly (like the seeds' `WHERE ANOMALY_SCORE > 6`). When no scope
   * sets it, the detector's adaptive thresholder decides.
   */
  scoreThreshold: z.number().positive().finite().optional(),
  /** A device that reported and then stays quiet for this many windows raises `silence`. */
  silenceWindows: z.number().int().min(0).max(10_000).optional(),
  /**
   * Stuck-sensor rule: a metric repeating the exact same value for at least this many consecutive readings
   * (and for clearly longer than its normal repeats, see ADR 0605) raises `stuck:<metric>`. A number applies to
   * every metric; an object sets it per metric, with `"*"` as the default for the others. 0 disables. When no
   * scope sets it, the scorer's default applies (10).
   */
  stuckReadings: stuckReadingsSchema.optional(),
  updatedAt: z.string().optional(),
  /** Who stored this rule (the API's principal). */
  updatedBy: z.string().optional(),
});
export type ThresholdRule = z.infer<typeof thresholdRuleSchema>;

/**
 * The body of `PUT /api/thresholds/{scope}`: the rule's settings only, strictly (an unknown field — e.g. the
 * `{"metric":"pressure","max":5}` someone guesses — is refused with its name, never stored as an empty rule).
 * Scope, `updatedAt` and `updatedBy` come from the path, the clock and the token.
 */
export const thresholdRuleBodySchema = z
  .object({
    bounds: z.record(z.string().min(1).max(128), metricBoundsSchema).optional(),
    scoreThreshold: thresholdRuleSchema.shape.scoreThreshold,
    silenceWindows: thresholdRuleSchema.shape.silenceWindows,
    stuckReadings: thresholdRuleSchema.shape.stuckReadings,
  })
  .strict();
export type ThresholdRuleBody = z.infer<typeof thresholdRuleBodySchema>;

export interface ScopedDevice {
  deviceId: string;
  manufacturer: string;
  model: string;
}

/** Scope keys of a device, most specific first. */
export function scopeKeysOf(device: ScopedDevice): string[] {
  return [
    `device#${device.deviceId}`,
    `model#${device.manufacturer}#${device.model}`,
    `manufacturer#${device.manufacturer}`,
    "global",
  ];
}
