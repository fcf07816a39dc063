import type { Clock } from "../ports/clock.ts";
import type { IncidentStore } from "../ports/incident-store.ts";
import { IncidentNotFoundError } from "./errors.ts";
import type { TimelineEventType } from "./incident.ts";

/** Escalation steps the state machine records on the timeline (besides notifications and acknowledgements). */
export type EscalationEventType = Extract<
  TimelineEventType,
  "ack_timeout" | "notification_failed" | "tier_undelivered" | "unacknowledged" | "policy" | "error"
>;

export interface EscalationEvent {
  incidentId: string;
  type: EscalationEventType;
  tier?: number;
  round?: number;
  channel?: string;
  detail?: string;
}

/**
 * Appends an escalation step to the incident's timeline. `unacknowledged` also moves an `open` incident to
 * `unacknowledged` (every tier and repeat exhausted). Returns false if the incident does not exist.
 */
export async function recordEscalationEvent(
  deps: { store: IncidentStore; clock: Clock },
  event: EscalationEvent,
): Promise<{ recorded: boolean }> {
  const entry = {
    at: new Date(deps.clock.now()).toISOString(),
    type: event.type,
    tier: event.tier,
    round: event.round,
    channel: event.channel,
    detail: event.detail?.slice(0, 300),
  };
  try {
    if (event.type === "unacknowledged") {
      const moved = await deps.store.update(event.incidentId, {
        expectStates: ["open"],
        state: "unacknowledged",
        entry,
      });
      if (moved) return { recorded: true };
    }
    await deps.store.update(event.incidentId, { entry });
    return { recorded: true };
  } catch (error) {
    if (error instanceof IncidentNotFoundError) return { recorded: false };
    throw error;
  }
}
