import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ChannelRejectedError, ChannelUnavailableError } from "@driftwatch/core/escalation/errors";
import type { Notification } from "@driftwatch/core/escalation/notification";
import { verifyWebhookSignature } from "@driftwatch/core/escalation/webhook";
import { systemClock } from "@driftwatch/core/ports/clock";
import { createWebhookNotifier } from "../../src/adapters/webhook-notifier.ts";

const notification = {
  incidentId: "inc-1",
  tier: 1,
  tierName: "primary",
  tierCount: 2,
  round: 1,
  channel: "webhook:oncall",
  subject: "[Driftwatch] Tier 1: anomaly on dev-1 (anomaly)",
  body: "b",
  ackUrl: "https://ack.example/ack?token=t",
  ackExpiresAt: "2026-01-02T00:00:00.000Z",
  deviceId: "dev-1",
  rule: "anomaly",
  kind: "anomaly",
  occurrences: 1,
  openedAt: "2026-01-01T00:00:00.000Z",
  createdAt: "2026-01-01T00:00:00.000Z",
} satisfies Notification;

let server: http.Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A webhook receiver on a free port answering `statuses` in turn (then 200), recording requests. */
async function receiver(statuses: number[]) {
  const requests: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end("ok");
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`, requests };
}

const secret = "a-signing-secret-of-some-length";

describe("webhook notifier", () => {
  it("posts Slack-compatible JSON with a verifiable signature", async () => {
    const { url, requests } = await receiver([]);
    await createWebhookNotifier({ oncall: { url, signingSecret: secret } }, { clock: systemClock }).send(
      notification,
    );
    expect(requests).toHaveLength(1);
    const [{ headers, body }] = requests;
    expect(JSON.parse(body).text).toContain(notification.ackUrl);
    expect(
      verifyWebhookSignature({
        secret,
        body,
        timestampSeconds: Number(headers["x-driftwatch-request-timestamp"]),
        signature: String(headers["x-driftwatch-signature"]),
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    ).toBe(true);
  });

  it("retries 5xx and 429 with backoff, then succeeds", async () => {
    const { url, requests } = await receiver([503, 429]);
    await createWebhookNotifier(
      { oncall: { url, signingSecret: secret } },
      { clock: systemClock, baseDelayMs: 5 },
    ).send(notification);
    expect(requests).toHaveLength(3);
  });

  it("gives up with ChannelUnavailableError (the state machine retries) or ChannelRejectedError on 4xx", async () => {
    const { url, requests } = await receiver([500, 500, 500, 400]);
    const notifier = createWebhookNotifier(
      { oncall: { url, signingSecret: secret } },
      { clock: systemClock, baseDelayMs: 1, attempts: 3 },
    );
    await expect(notifier.send(notification)).rejects.toBeInstanceOf(ChannelUnavailableError);
    await expect(notifier.send(notification)).rejects.toBeInstanceOf(ChannelRejectedError);
    expect(requests).toHaveLength(4);
    await expect(notifier.send({ ...notification, channel: "webhook:other" })).rejects.toBeInstanceOf(
      ChannelRejectedError,
    );
  });

  it("treats an unreachable receiver as unavailable", async () => {
    const notifier = createWebhookNotifier(
      { oncall: { url: "http://127.0.0.1:9/hook", signingSecret: secret } },
      { clock: systemClock, baseDelayMs: 1, attempts: 2, timeoutMs: 500 },
    );
    await expect(notifier.send(notification)).rejects.toBeInstanceOf(ChannelUnavailableError);
  });
});
