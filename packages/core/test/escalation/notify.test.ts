import { describe, expect, it } from "vitest";
import { createAckLinkSigner } from "../../src/escalation/ack-link.ts";
import { backoffDelay, retryWithBackoff } from "../../src/escalation/backoff.ts";
import { createChannelRouter } from "../../src/escalation/channel-router.ts";
import { ChannelRejectedError, ChannelUnavailableError } from "../../src/escalation/errors.ts";
import type { Notification } from "../../src/escalation/notification.ts";
import { notifyChannel } from "../../src/escalation/notify-channel.ts";
import {
  SIGNATURE_HEADER,
  signWebhookBody,
  slackMessage,
  verifyWebhookSignature,
} from "../../src/escalation/webhook.ts";
import { acknowledgeIncident } from "../../src/incidents/acknowledge.ts";
import { openOrFold } from "../../src/incidents/open-or-fold.ts";
import { fixedClock, MemoryIncidentStore, RecordingTaskTokens } from "../../testing/index.ts";

function setup() {
  const store = new MemoryIncidentStore();
  const clock = fixedClock();
  const sent: Notification[] = [];
  const deps = {
    store,
    clock,
    tokens: new RecordingTaskTokens(),
    notifier: { send: async (n: Notification) => void sent.push(n) },
    signer: createAckLinkSigner({ keys: [new Uint8Array(32).fill(1)], ttlSeconds: 600 }),
    ackBaseUrl: "http://127.0.0.1:3000/ack",
  };
  return { store, clock, sent, deps };
}

const alert = {
  alertId: "al-1",
  kind: "anomaly" as const,
  rule: "anomaly",
  deviceId: "monitor-7",
  ts: "",
  windowStart: "",
  metrics: { pulse: 190 },
  attribution: [{ metric: "pulse", value: 190, contribution: 2.5, direction: "HIGH" as const }],
  causes: [],
  message: "m",
};
const input = (incidentId: string, tier = 1) => ({
  incidentId,
  tier: { number: tier, name: `t${tier}` },
  tierCount: 2,
  round: 1,
  channel: "sns:tier-1",
});

describe("notifyChannel", () => {
  it("sends one notification with a signed link, moves the incident to the tier, skips a retried duplicate", async () => {
    const { deps, sent, store } = setup();
    const { incidentId } = await openOrFold(deps, alert, "al-1");
    expect((await notifyChannel(deps, input(incidentId, 2))).status).toBe("sent");
    expect(sent).toHaveLength(1);
    const n = sent[0];
    expect(n).toMatchObject({ incidentId, tier: 2, channel: "sns:tier-1", deviceId: "monitor-7" });
    expect(n.subject.length).toBeLessThanOrEqual(100);
    expect(n.subject).toContain("escalated");
    expect(n.ackUrl).toMatch(/^http:\/\/127\.0\.0\.1:3000\/ack\?token=[\w-]+\.[\w-]+$/);
    expect(n.body).toContain(n.ackUrl);
    expect(deps.signer.verify(new URL(n.ackUrl).searchParams.get("token")!, deps.clock.now()).i).toBe(
      incidentId,
    );
    expect((await store.get(incidentId))!.incident.tier).toBe(2);
    expect((await notifyChannel(deps, input(incidentId, 2))).status).toBe("duplicate");
    expect(sent).toHaveLength(1);
  });

  it("skips when the incident was acknowledged meanwhile", async () => {
    const { deps, sent } = setup();
    const { incidentId } = await openOrFold(deps, alert, "al-1");
    await acknowledgeIncident(deps, { incidentId, actor: "x", via: "api" });
    expect((await notifyChannel(deps, input(incidentId))).status).toBe("skipped");
    expect(sent).toHaveLength(0);
  });

  it("propagates channel errors by name and records nothing as sent", async () => {
    const { deps, store } = setup();
    const { incidentId } = await openOrFold(deps, alert, "al-1");
    const failing = {
      ...deps,
      notifier: { send: async () => Promise.reject(new ChannelUnavailableError("down")) },
    };
    await expect(notifyChannel(failing, input(incidentId))).rejects.toMatchObject({
      name: "ChannelUnavailableError",
    });
    expect((await store.get(incidentId))!.notified).toEqual([]);
  });
});

describe("channels", () => {
  it("route by kind and reject unconfigured kinds permanently", async () => {
    const got: string[] = [];
    const router = createChannelRouter({ sns: { send: async (n) => void got.push(n.channel) } });
    await router.send({ channel: "sns:tier-1" } as Notification);
    await expect(router.send({ channel: "webhook:oncall" } as Notification)).rejects.toBeInstanceOf(
      ChannelRejectedError,
    );
    await expect(router.send({ channel: "pager:x" } as Notification)).rejects.toBeInstanceOf(
      ChannelRejectedError,
    );
    expect(got).toEqual(["sns:tier-1"]);
  });

  it("sign webhook bodies Slack-style and verify them with a timestamp tolerance", () => {
    const body = JSON.stringify(
      slackMessage({
        subject: "s",
        ackUrl: "http://x/ack?token=t",
        deviceId: "d",
        rule: "r",
        tier: 1,
        tierCount: 2,
        tierName: "p",
        round: 1,
        occurrences: 1,
        incidentId: "i",
        openedAt: "o",
      } as Notification),
    );
    const sig = signWebhookBody("shared-secret-123456", 1_700_000_000, body);
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(SIGNATURE_HEADER).toBe("X-Driftwatch-Signature");
    const check = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({
        secret: "shared-secret-123456",
        timestampSeconds: 1_700_000_000,
        body,
        signature: sig,
        nowSeconds: 1_700_000_010,
        ...over,
      });
    expect(check({})).toBe(true);
    expect(check({ body: `${body} ` })).toBe(false);
    expect(check({ secret: "other-secret-1234567" })).toBe(false);
    expect(check({ nowSeconds: 1_700_000_400 })).toBe(false);
    const message = JSON.parse(body);
    expect(message.text).toContain("http://x/ack?token=t");
    expect(JSON.stringify(message.blocks)).toContain('"url":"http://x/ack?token=t"');
  });

  it("retry with capped exponential backoff only while retryable", async () => {
    expect(backoffDelay(0, { attempts: 3, baseMs: 100, random: () => 1 })).toBe(100);
    expect(backoffDelay(3, { attempts: 5, baseMs: 100, random: () => 1 })).toBe(800);
    expect(backoffDelay(10, { attempts: 5, baseMs: 100, maxMs: 1000, random: () => 1 })).toBe(1000);
    const sleeps: number[] = [];
    let calls = 0;
    const ok = await retryWithBackoff(
      async () => {
        calls += 1;
        if (calls < 3) throw new ChannelUnavailableError("x");
        return "ok";
      },
      {
        attempts: 5,
        baseMs: 10,
        random: () => 1,
        isRetryable: (e) => e instanceof ChannelUnavailableError,
        sleep: async (ms) => void sleeps.push(ms),
      },
    );
    expect(ok).toBe("ok");
    expect(sleeps).toEqual([10, 20]);
    calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls += 1;
          throw new ChannelRejectedError("no");
        },
        {
          attempts: 5,
          baseMs: 1,
          isRetryable: (e) => e instanceof ChannelUnavailableError,
          sleep: async () => {},
        },
      ),
    ).rejects.toBeInstanceOf(ChannelRejectedError);
    expect(calls).toBe(1);
  });
});
