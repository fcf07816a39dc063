import { z } from "zod";
import {
  metricBoundsSchema,
  stuckReadingsSchema,
  thresholdRuleSchema,
} from "../thresholds/threshold-rule.ts";

/** A candidate rule for the device's own scope (what `PUT /api/thresholds/devices/{id}` would store). */
export const candidateRuleSchema = z
  .object({
    bounds: z.record(metricBoundsSchema).optional(),
    scoreThreshold: thresholdRuleSchema.shape.scoreThreshold,
    silenceWindows: thresholdRuleSchema.shape.silenceWindows,
    stuckReadings: stuckReadingsSchema.optional(),
  })
  .strict();
export type CandidateRule = z.infer<typeof candidateRuleSchema>;

const isoTime = z.string().datetime({ offset: true, message: "must be an ISO 8601 time" });

/** `POST /api/backtest` body (DESIGN.md external contract). */
export const backtestRequestSchema = z
  .object({
    deviceId: z.string().min(1).max(128),
    from: isoTime,
    to: isoTime,
    rule: candidateRuleSchema,
  })
  .strict()
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), { message: "from must be before to", path: ["to"] });
export type BacktestRequest = z.infer<typeof backtestRequestSchema>;
