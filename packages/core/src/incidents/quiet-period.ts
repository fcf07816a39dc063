import { resolveIncident, type IncidentDeps } from "./acknowledge.ts";

export const AUTO_RESOLVE_ACTOR = "driftwatch:auto-resolve";

/**
 * The escalation's final loop: once the incident is acknowledged (or given up on), it resolves itself after
 * `quietSeconds` without a new occurrence. Returns `done` when the incident is closed, otherwise how long to wait
 * before checking again (new occurrences push the end of the quiet period out).
 */
export async function checkQuietPeriod(
  deps: IncidentDeps,
  input: { incidentId: string; quietSeconds: number },
): Promise<{ done: boolean; waitSeconds: number }> {
  const record = await deps.store.get(input.incidentId);
  if (!record) return { done: true, waitSeconds: 0 };
  const { incident } = record;
  if (incident.state === "resolved") {
    await deps.store.closePointer(incident.deviceId, incident.rule, incident.id);
    return { done: true, waitSeconds: 0 };
  }
  const quietUntil = Date.parse(incident.lastOccurrenceAt) + input.quietSeconds * 1000;
  const now = deps.clock.now();
  if (now >= quietUntil) {
    await resolveIncident(deps, { incidentId: incident.id, actor: AUTO_RESOLVE_ACTOR, auto: true });
    return { done: true, waitSeconds: 0 };
  }
  return { done: false, waitSeconds: Math.max(1, Math.ceil((quietUntil - now) / 1000)) };
}
