import { z } from "zod";
import { thresholdRuleSchema } from "./threshold-rule.ts";

/** A stored rule as the API shows it: scope as a path, plus who and when. */
export const storedRuleViewSchema = thresholdRuleSchema.omit({ scope: true }).extend({ scope: z.string() });
export type StoredRuleView = z.infer<typeof storedRuleViewSchema>;

/**
 * One change of a scope's rule (`GET /api/thresholds/history`): who (`by`, the token's user) changed it when
 * (`at`, ISO 8601), and the rule before and after (null when there was none / after a delete).
 */
export const thresholdHistoryEntrySchema = z
  .object({
    scope: z.string().min(1),
    at: z.string().min(1),
    by: z.string().min(1),
    before: storedRuleViewSchema.nullable(),
    after: storedRuleViewSchema.nullable(),
  })
  .strict();
export type ThresholdHistoryEntry = z.infer<typeof thresholdHistoryEntrySchema>;
