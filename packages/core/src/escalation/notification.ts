import { z } from "zod";
import type { Incident } from "../incidents/incident.ts";

/**
 * One notification of one incident on one channel for one tier and round. This is also the shape of an outbox
 * file in local mode (contract: at least `{incidentId, tier, channel, subject, body, ackUrl}`). No PHI: device
 * ids, rule and metric names, counts and times only.
 */
export const notificationSchema = z.object({
  incidentId: z.string(),
  tier: z.number().int().min(1),
  tierName: z.string(),
  tierCount: z.number().int().min(1),
  round: z.number().int().min(1),
  channel: z.string(),
  subject: z.string().max(100),
  body: z.string(),
  ackUrl: z.string(),
  ackExpiresAt: z.string(),
  deviceId: z.string(),
  rule: z.string(),
  kind: z.string(),
  occurrences: z.number().int(),
  openedAt: z.string(),
  createdAt: z.string(),
});
export type Notification = z.infer<typeof notificationSchema>;

/** Dedupe key of a notification: one per incident, tier, round and channel. */
export function notificationKey(tier: number, round: number, channel: string): string {
  return `${tier}#${round}#${channel}`;
}

/** SNS e-mail subjects: at most 100 printable ASCII characters, no line breaks. */
function subjectLine(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, "?");
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

export function buildNotification(input: {
  incident: Incident;
  tier: { number: number; name: string };
  tierCount: number;
  round: number;
  channel: string;
  ackUrl: string;
  ackExpiresAt: number;
  now: Date;
}): Notification {
  const { incident, tier, round } = input;
  const escalated = tier.number > 1 || round > 1 ? " (escalated)" : "";
  const subject = subjectLine(
    `[Driftwatch] Tier ${tier.number}${escalated}: ${incident.kind} on ${incident.deviceId} (${incident.rule})`,
  );
  const ackExpiresAt = new Date(input.ackExpiresAt * 1000).toISOString();
  const body = [
    `${incident.summary}`,
    ``,
    `Incident:     ${incident.id}`,
    `Device:       ${incident.deviceId}${incident.site ? ` at ${incident.site}` : ""}`,
    `Rule:         ${incident.rule}`,
    `Opened:       ${incident.openedAt}`,
    `Occurrences:  ${incident.occurrences}`,
    `Escalation:   tier ${tier.number} of ${input.tierCount} (${tier.name}), round ${round}`,
    ``,
    `Acknowledge (one click, single use, valid until ${ackExpiresAt}):`,
    input.ackUrl,
  ].join("\n");
  return {
    incidentId: incident.id,
    tier: tier.number,
    tierName: tier.name,
    tierCount: input.tierCount,
    round,
    channel: input.channel,
    subject,
    body,
    ackUrl: input.ackUrl,
    ackExpiresAt,
    deviceId: incident.deviceId,
    rule: incident.rule,
    kind: incident.kind,
    occurrences: incident.occurrences,
    openedAt: incident.openedAt,
    createdAt: input.now.toISOString(),
  };
}
