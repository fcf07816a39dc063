import type { Clock } from "../ports/clock.ts";
import type { IncidentStore } from "../ports/incident-store.ts";
import type { TaskTokens } from "../ports/task-tokens.ts";
import { IncidentNotFoundError } from "../incidents/errors.ts";
import { ACKNOWLEDGEABLE_STATES } from "../incidents/incident.ts";

/**
 * Start of an acknowledgement wait: stores the task token on the incident so the acknowledge handler can
 * release it. If the incident was acknowledged or resolved before the token was stored (an acknowledgement can
 * arrive as soon as the notification is out), completes the wait at once.
 */
export async function beginAckWait(
  deps: { store: IncidentStore; tokens: TaskTokens; clock: Clock },
  input: { incidentId: string; taskToken: string },
): Promise<{ waiting: boolean }> {
  const stored = await deps.store.update(input.incidentId, {
    expectStates: ACKNOWLEDGEABLE_STATES,
    taskToken: input.taskToken,
  });
  if (stored) return { waiting: true };
  const record = await deps.store.get(input.incidentId);
  if (!record) throw new IncidentNotFoundError(`incident ${input.incidentId} not found`);
  const { incident } = record;
  await deps.tokens.succeed(
    input.taskToken,
    incident.state === "resolved"
      ? { action: "resolved", resolvedBy: incident.resolvedBy, resolvedAt: incident.resolvedAt }
      : {
          action: "acknowledged",
          acknowledgedBy: incident.acknowledgedBy,
          acknowledgedAt: incident.acknowledgedAt,
        },
  );
  return { waiting: false };
}
