import { z } from "zod";
import { alertKindSchema } from "../alerts/alert.ts";

/**
 * An incident: one problem on one device for one rule, from the first alert until it is resolved.
 * Alerts for the same (deviceId, rule) while it is open fold into it as occurrences (no new notification).
 *
 * States: `open` (notifying and waiting for an acknowledgement), `acknowledged` (someone took it),
 * `unacknowledged` (every tier and repeat exhausted without an acknowledgement; still open for folding),
 * `resolved` (closed by a person or automatically after a quiet period). Never holds PHI.
 */
export const incidentStateSchema = z.enum(["open", "acknowledged", "unacknowledged", "resolved"]);
export type IncidentState = z.infer<typeof incidentStateSchema>;

/** States in which the incident still collects occurrences (an open dedupe pointer exists). */
export const ACTIVE_STATES: readonly IncidentState[] = ["open", "acknowledged", "unacknowledged"];
/** States in which an acknowledgement is still meaningful. */
export const ACKNOWLEDGEABLE_STATES: readonly IncidentState[] = ["open", "unacknowledged"];

export const timelineEventTypeSchema = z.enum([
  "opened",
  "occurrence",
  "policy",
  "notified",
  "notification_failed",
  "tier_undelivered",
  "ack_timeout",
  "acknowledged",
  "unacknowledged",
  "resolved",
  "auto_resolved",
  "error",
]);
export type TimelineEventType = z.infer<typeof timelineEventTypeSchema>;

export const timelineEntrySchema = z.object({
  at: z.string(),
  type: timelineEventTypeSchema,
  tier: z.number().int().min(1).optional(),
  round: z.number().int().min(1).optional(),
  channel: z.string().optional(),
  actor: z.string().optional(),
  /** Short machine-readable detail (error name, policy id, alert id); never a payload value. */
  detail: z.string().max(300).optional(),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const incidentSchema = z.object({
  id: z.string().min(1),
  deviceId: z.string().min(1),
  rule: z.string().min(1),
  kind: alertKindSchema,
  site: z.string().optional(),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  state: incidentStateSchema,
  /** Current escalation tier, 1-based; 0 until the first tier is notified. */
  tier: z.number().int().min(0),
  /** Current round through the tiers, 1-based (repeats add rounds). */
  round: z.number().int().min(1),
  occurrences: z.number().int().min(1),
  openedAt: z.string(),
  lastOccurrenceAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  policyId: z.string().optional(),
  /** The execution that escalates this incident (the opening alert's execution name). */
  executionName: z.string(),
  openedByAlertId: z.string(),
  /** Short description of the opening alert (device ids and metric names only). */
  summary: z.string(),
  timeline: z.array(timelineEntrySchema),
});
export type Incident = z.infer<typeof incidentSchema>;

/** Occurrences beyond this count update the counter but add no timeline entry (bounded item size). */
export const MAX_OCCURRENCE_ENTRIES = 50;

/** Whether the `n`-th occurrence (1-based, the opening alert is 1) gets its own timeline entry. */
export function recordsOccurrenceEntry(n: number): boolean {
  return n <= MAX_OCCURRENCE_ENTRIES;
}
