import { z } from "zod";

/**
 * Channel names used in policies: `sns:<topic>` (an SNS topic per tier, fanning out to e-mail/SMS
 * subscriptions), `webhook:<name>` (Slack-compatible JSON, signed), `outbox` (local mode: one JSON file per
 * notification). The notifier of each environment maps names to endpoints.
 */
export const channelNameSchema = z
  .string()
  .regex(
    /^(sns:[A-Za-z0-9_-]{1,64}|webhook:[A-Za-z0-9_-]{1,64}|outbox)$/,
    "expected sns:<name>, webhook:<name> or outbox",
  );
export type ChannelName = z.infer<typeof channelNameSchema>;

export type ChannelKind = "sns" | "webhook" | "outbox";

export function parseChannel(name: string): { kind: ChannelKind; target: string } {
  const [kind, target = ""] = name.split(":", 2) as [string, string | undefined];
  if (kind !== "sns" && kind !== "webhook" && kind !== "outbox") {
    throw new Error(`unknown channel kind in "${name}"`);
  }
  return { kind, target };
}
