import middy from "@middy/core";
import { z } from "zod";
import { recordEscalationEvent } from "@driftwatch/core/incidents/record-event";
import { systemClock } from "@driftwatch/core/ports/clock";
import { ESCALATION_METRICS } from "@driftwatch/core/shared/metric-names";
import { lazy } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { awsStore, type DepsProvider } from "./deps.ts";
import { parseTaskInput } from "./task-input.ts";

export const recordEventInputSchema = z.object({
  /** Absent when the incident could not be opened at all. */
  incidentId: z.string().min(1).optional(),
  type: z.enum(["ack_timeout", "notification_failed", "tier_undelivered", "unacknowledged", "error"]),
  tier: z.number().int().min(1).optional(),
  round: z.number().int().min(1).optional(),
  channel: z.string().optional(),
  /** The step that failed, for `error`. */
  step: z.string().optional(),
  /** `{Error, Cause}` caught by the state machine; only the error name is kept (causes may quote data). */
  error: z.object({ Error: z.string().optional() }).passthrough().optional(),
});

/** Metric per event type; the stack alarms on the last three. */
export const EVENT_METRICS = {
  ack_timeout: ESCALATION_METRICS.ackTimeouts,
  notification_failed: ESCALATION_METRICS.notificationChannelFailures,
  tier_undelivered: ESCALATION_METRICS.tierUndelivered,
  unacknowledged: ESCALATION_METRICS.incidentsUnacknowledged,
  error: ESCALATION_METRICS.escalationStepErrors,
} as const;

/**
 * Task `Record…`: escalation steps on the incident timeline (timeouts, failed channels, undelivered tiers,
 * unacknowledged, caught errors) and the metrics the stack alarms on. Never fails the execution for a missing
 * incident.
 */
export function createRecordEventHandler(getDeps: DepsProvider<"store" | "clock">) {
  const handle = async (event: unknown): Promise<{ recorded: boolean }> => {
    const input = parseTaskInput(recordEventInputSchema, event, "RecordEvent");
    metrics.addMetric(EVENT_METRICS[input.type], MetricUnit.Count, 1);
    const detail = [input.step, input.error?.Error].filter(Boolean).join(": ") || undefined;
    const log = input.type === "ack_timeout" ? logger.info.bind(logger) : logger.warn.bind(logger);
    log("escalation event", {
      incidentId: input.incidentId,
      type: input.type,
      tier: input.tier,
      round: input.round,
      channel: input.channel,
      detail,
    });
    if (!input.incidentId) return { recorded: false };
    return recordEscalationEvent(await getDeps(), {
      incidentId: input.incidentId,
      type: input.type,
      tier: input.tier,
      round: input.round,
      channel: input.channel,
      detail,
    });
  };
  return withObservability(middy(handle));
}

export const handler = createRecordEventHandler(
  lazy(async () => ({ store: await awsStore(), clock: systemClock })),
);
