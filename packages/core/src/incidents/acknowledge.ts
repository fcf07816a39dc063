import type { Clock } from "../ports/clock.ts";
import type { IncidentStore } from "../ports/incident-store.ts";
import type { TaskTokens } from "../ports/task-tokens.ts";
import { IncidentNotFoundError } from "./errors.ts";
import { ACKNOWLEDGEABLE_STATES, ACTIVE_STATES, type Incident } from "./incident.ts";

export interface IncidentDeps {
  store: IncidentStore;
  tokens: TaskTokens;
  clock: Clock;
}

export type AcknowledgeOutcome = "acknowledged" | "already-acknowledged" | "already-resolved";

/**
 * Records who acknowledged and when, then releases the escalation's wait (`SendTaskSuccess` on the stored
 * token). Idempotent: a second acknowledgement changes nothing and says who was first.
 */
export async function acknowledgeIncident(
  deps: IncidentDeps,
  input: { incidentId: string; actor: string; via: string },
): Promise<{ outcome: AcknowledgeOutcome; incident: Incident }> {
  const at = new Date(deps.clock.now()).toISOString();
  const changed = await deps.store.update(input.incidentId, {
    expectStates: ACKNOWLEDGEABLE_STATES,
    state: "acknowledged",
    set: { acknowledgedAt: at, acknowledgedBy: input.actor },
    entry: { at, type: "acknowledged", actor: input.actor, detail: input.via },
    taskToken: null,
  });
  if (!changed) {
    const current = await mustGet(deps, input.incidentId);
    return {
      outcome: current.state === "resolved" ? "already-resolved" : "already-acknowledged",
      incident: current,
    };
  }
  if (changed.previousTaskToken) {
    await deps.tokens.succeed(changed.previousTaskToken, {
      action: "acknowledged",
      acknowledgedBy: input.actor,
      acknowledgedAt: at,
    });
  }
  return { outcome: "acknowledged", incident: changed.incident };
}

/**
 * Closes the incident (by a person, or `auto` after the quiet period), drops its dedupe pointer so the next
 * alert opens a new incident, and ends a wait in progress. Idempotent.
 */
export async function resolveIncident(
  deps: IncidentDeps,
  input: { incidentId: string; actor: string; auto?: boolean; detail?: string },
): Promise<{ outcome: "resolved" | "already-resolved"; incident: Incident }> {
  const at = new Date(deps.clock.now()).toISOString();
  const changed = await deps.store.update(input.incidentId, {
    expectStates: ACTIVE_STATES,
    state: "resolved",
    set: { resolvedAt: at, resolvedBy: input.actor },
    entry: {
      at,
      type: input.auto ? "auto_resolved" : "resolved",
      actor: input.actor,
      ...(input.detail ? { detail: input.detail.slice(0, 300) } : {}),
    },
    taskToken: null,
  });
  const incident = changed?.incident ?? (await mustGet(deps, input.incidentId));
  await deps.store.closePointer(incident.deviceId, incident.rule, incident.id);
  if (!changed) return { outcome: "already-resolved", incident };
  if (changed.previousTaskToken) {
    await deps.tokens.succeed(changed.previousTaskToken, {
      action: "resolved",
      resolvedBy: input.actor,
      resolvedAt: at,
    });
  }
  return { outcome: "resolved", incident: changed.incident };
}

async function mustGet(deps: { store: IncidentStore }, id: string): Promise<Incident> {
  const record = await deps.store.get(id);
  if (!record) throw new IncidentNotFoundError(`incident ${id} not found`);
  return record.incident;
}
