import type { Clock } from "../ports/clock.ts";
import type { IncidentStore } from "../ports/incident-store.ts";
import type { Notifier } from "../ports/notifier.ts";
import { IncidentNotFoundError } from "../incidents/errors.ts";
import { ACTIVE_STATES } from "../incidents/incident.ts";
import { ackUrl, type AckLinkSigner } from "./ack-link.ts";
import { buildNotification, notificationKey, type Notification } from "./notification.ts";

export interface NotifyDeps {
  store: IncidentStore;
  notifier: Notifier;
  signer: AckLinkSigner;
  clock: Clock;
  /** The acknowledge endpoint, e.g. `https://…lambda-url…/ack` or `http://127.0.0.1:3000/ack`. */
  ackBaseUrl: string;
}

export interface NotifyInput {
  incidentId: string;
  tier: { number: number; name: string };
  tierCount: number;
  round: number;
  channel: string;
}

/**
 * Sends one tier's notification on one channel, with a fresh single-use acknowledgement link. Skips when the
 * incident no longer needs it (acknowledged or resolved meanwhile) or this exact notification was already sent
 * (a retried task). Channel errors propagate by name so the state machine can retry or move on.
 */
export async function notifyChannel(
  deps: NotifyDeps,
  input: NotifyInput,
): Promise<{ status: "sent" | "skipped" | "duplicate"; notification?: Notification }> {
  const record = await deps.store.get(input.incidentId);
  if (!record) throw new IncidentNotFoundError(`incident ${input.incidentId} not found`);
  let incident = record.incident;
  if (incident.state === "acknowledged" || incident.state === "resolved") return { status: "skipped" };
  const key = notificationKey(input.tier.number, input.round, input.channel);
  if (record.notified.includes(key)) return { status: "duplicate" };
  if (incident.tier !== input.tier.number || incident.round !== input.round) {
    const moved = await deps.store.update(incident.id, {
      expectStates: ACTIVE_STATES,
      set: { tier: input.tier.number, round: input.round },
    });
    if (!moved) return { status: "skipped" };
    incident = moved.incident;
  }
  const now = deps.clock.now();
  const link = deps.signer.issue(
    { incidentId: incident.id, tier: input.tier.number, round: input.round, channel: input.channel },
    now,
  );
  const notification = buildNotification({
    incident,
    tier: input.tier,
    tierCount: input.tierCount,
    round: input.round,
    channel: input.channel,
    ackUrl: ackUrl(deps.ackBaseUrl, link.token),
    ackExpiresAt: link.expiresAt,
    now: new Date(now),
  });
  await deps.notifier.send(notification);
  await deps.store.markNotified(
    incident.id,
    key,
    {
      at: new Date(deps.clock.now()).toISOString(),
      type: "notified",
      tier: input.tier.number,
      round: input.round,
      channel: input.channel,
    },
    input.tier.number,
    input.round,
  );
  return { status: "sent", notification };
}
