import { createHmac, timingSafeEqual } from "node:crypto";
import type { Notification } from "./notification.ts";

/**
 * Webhook channel: a Slack-compatible JSON body (`text` + Block Kit `blocks` with an "Acknowledge" button) and
 * a request signature in the style of Slack's signing secret: `X-Driftwatch-Signature: v1=<hex HMAC-SHA256 of
 * "v1:<timestamp>:<body>">` with `X-Driftwatch-Request-Timestamp: <epoch seconds>`. Receivers recompute the MAC
 * with the shared secret and reject stale timestamps (replay).
 */
export const SIGNATURE_HEADER = "X-Driftwatch-Signature";
export const TIMESTAMP_HEADER = "X-Driftwatch-Request-Timestamp";

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function slackMessage(n: Notification): SlackMessage {
  return {
    text: `${n.subject} — acknowledge: ${n.ackUrl}`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: n.subject.slice(0, 150) } },
      {
        type: "section",
        fields: [
          { type: "mrkdwn", text: `*Device*\n${escapeMrkdwn(n.deviceId)}` },
          { type: "mrkdwn", text: `*Rule*\n${escapeMrkdwn(n.rule)}` },
          {
            type: "mrkdwn",
            text: `*Tier*\n${n.tier} of ${n.tierCount} (${escapeMrkdwn(n.tierName)}), round ${n.round}`,
          },
          { type: "mrkdwn", text: `*Occurrences*\n${n.occurrences}` },
        ],
      },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `Incident ${escapeMrkdwn(n.incidentId)} opened ${n.openedAt}` }],
      },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            style: "primary",
            text: { type: "plain_text", text: "Acknowledge" },
            url: n.ackUrl,
            action_id: "driftwatch-ack",
          },
        ],
      },
    ],
  };
}

export function signWebhookBody(secret: string | Uint8Array, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", secret).update(`v1:${timestampSeconds}:${body}`).digest("hex");
  return `v1=${mac}`;
}

/** For receivers (and tests): true if the signature matches and the timestamp is within `toleranceSeconds`. */
export function verifyWebhookSignature(input: {
  secret: string | Uint8Array;
  timestampSeconds: number;
  body: string;
  signature: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  if (Math.abs(input.nowSeconds - input.timestampSeconds) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhookBody(input.secret, input.timestampSeconds, input.body));
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
