import { afterEach, describe, expect, it } from "vitest";
import { ChannelUnavailableError } from "@driftwatch/core/escalation/errors";
import type { Notifier } from "@driftwatch/core/ports/notifier";
import { startEscalationHarness, type EscalationHarness } from "./support/escalation-harness.ts";

/**
 * The escalation workflow, executed from the definition the CDK construct synthesizes (aws-local-stepfunctions),
 * with the real task handlers, dynalite, the outbox and the local acknowledge endpoint.
 */
let h: EscalationHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function incidentOf(h: EscalationHarness, deviceId: string) {
  return h.waitFor(`incident for ${deviceId}`, async () =>
    (await h.incidents()).find((i) => i.deviceId === deviceId),
  );
}

describe("escalation (local, synthesized definition)", () => {
  it("is acknowledged at tier 1 by following the link, and records who and when", async () => {
    h = await startEscalationHarness({ ackTimeoutSeconds: 30 });
    const alert = h.alert("dev-ack-1");
    expect(await h.start(alert)).toEqual({ started: true });
    const first = await h.waitFor("tier-1 notification", () => h!.outbox().find((n) => n.tier === 1));
    expect(first).toMatchObject({ tier: 1, channel: "outbox", round: 1 });
    expect(first.ackUrl).toMatch(new RegExp(`^${h.baseUrl}/ack\\?token=`));
    expect(first.subject).toContain("dev-ack-1");

    // GET (a mail scanner, a link preview, the person opening the link) shows a confirmation page only.
    const page = await fetch(first.ackUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Nothing has been acknowledged yet");
    expect(html).toMatch(/<form method="post">/);
    expect((await incidentOf(h, "dev-ack-1")).state).toBe("open");
    // Its button POSTs to the same URL, which acknowledges.
    const res = await fetch(first.ackUrl, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Incident acknowledged");

    const incident = await h.waitFor("acknowledged incident", async () => {
      const i = (await h!.incidents()).find((x) => x.deviceId === "dev-ack-1");
      return i?.state === "acknowledged" ? i : undefined;
    });
    expect(incident.acknowledgedBy).toBe("link:outbox");
    expect(Date.parse(incident.acknowledgedAt!)).toBeGreaterThan(Date.parse(incident.openedAt) - 1);
    expect(incident.tier).toBe(1);
    expect(incident.timeline.map((e) => e.type)).toEqual(["opened", "policy", "notified", "acknowledged"]);
    // Escalation stopped: the acknowledgement released the parked tier-1 wait, and no tier-2 notification was sent.
    await h.waitFor("tier-1 wait released", () => h!.service.tokens.waiting === 0 || undefined);
    expect(h.outbox().filter((n) => n.incidentId === incident.id)).toHaveLength(1);
    expect(h.context.status.get("escalation.incidents")).toBe(1);
    expect(h.context.status.get("escalation.notifications")).toBe(1);
  });

  it("escalates to tier 2 when tier 1 times out, then is acknowledged by POST with a name", async () => {
    h = await startEscalationHarness({ ackTimeoutSeconds: 1 });
    await h.start(h.alert("dev-escalate"));
    const second = await h.waitFor("tier-2 notification", () => h!.outbox().find((n) => n.tier === 2));
    const before = await incidentOf(h, "dev-escalate");
    expect(before.tier).toBe(2);
    expect(before.timeline.map((e) => e.type)).toContain("ack_timeout");

    const res = await fetch(second.ackUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "by=Dana%20Oncall",
    });
    expect(res.status).toBe(200);
    const acked = await h.waitFor("acknowledged", async () => {
      const i = await incidentOf(h!, "dev-escalate");
      return i.state === "acknowledged" ? i : undefined;
    });
    expect(acked.acknowledgedBy).toBe("Dana Oncall");
    const notified = acked.timeline.filter((e) => e.type === "notified").map((e) => e.tier);
    expect(notified).toEqual([1, 2]);
  });

  it("marks the incident unacknowledged after every tier (and repeat) is exhausted", async () => {
    h = await startEscalationHarness({ ackTimeoutSeconds: 1, env: { DRIFTWATCH_ESCALATION_REPEAT: "1" } });
    await h.start(h.alert("dev-ignored"));
    const incident = await h.waitFor("unacknowledged", async () => {
      const i = (await h!.incidents()).find((x) => x.deviceId === "dev-ignored");
      return i?.state === "unacknowledged" ? i : undefined;
    });
    // Two tiers × two rounds, each notified once.
    const sent = h.outbox().map((n) => `${n.round}/${n.tier}`);
    expect(sent.sort()).toEqual(["1/1", "1/2", "2/1", "2/2"]);
    expect(incident.timeline.filter((e) => e.type === "ack_timeout")).toHaveLength(4);
    expect(incident.timeline.at(-1)?.type).toBe("unacknowledged");
  });

  it("folds duplicate alerts for the same device and rule into one incident with one notification", async () => {
    h = await startEscalationHarness({ ackTimeoutSeconds: 30 });
    const first = h.alert("dev-dup");
    await h.start(first);
    await h.waitFor("tier-1 notification", () => h!.outbox().find((n) => n.tier === 1));
    // The same alert again (a retry) starts nothing; new alerts of the same anomaly fold.
    expect(await h.start(first)).toEqual({ started: false });
    const folded = Array.from({ length: 3 }, () => h!.alert("dev-dup"));
    for (const a of folded) await h.start(a);
    const incident = await h.waitFor("3 folded occurrences", async () => {
      const i = await incidentOf(h!, "dev-dup");
      return i.occurrences === 4 ? i : undefined;
    });
    // Every folding execution has ended (nothing of theirs still in flight) before the outbox is read.
    await h.waitFor("the folding executions ended", () =>
      folded.every((a) => h!.service.engine.execution(a.alertId)?.status === "SUCCEEDED") ? true : undefined,
    );
    const incidents = (await h.incidents()).filter((i) => i.deviceId === "dev-dup");
    expect(incidents).toHaveLength(1);
    expect(h.outbox()).toHaveLength(1);
    expect(incident.timeline.filter((e) => e.type === "occurrence")).toHaveLength(3);
    // A different rule on the same device is a different incident.
    await h.start(h.alert("dev-dup", { rule: "bound:temperature:high", kind: "threshold" }));
    await h.waitFor("second incident", async () =>
      (await h!.incidents()).filter((i) => i.deviceId === "dev-dup").length === 2 ? true : undefined,
    );
  });

  it("folds concurrent alerts of the same anomaly: one incident, one notification", async () => {
    h = await startEscalationHarness({ ackTimeoutSeconds: 30, retryIntervalMs: 300 });
    const burst = Array.from({ length: 6 }, () => h!.alert("dev-burst"));
    await Promise.all(burst.map((a) => h!.start(a)));
    const statuses = () => burst.map((a) => h!.service.engine.execution(a.alertId)?.status).join(",");
    const incident = await h.waitFor(
      () => `6 occurrences (executions ${statuses()})`,
      async () => {
        const i = (await h!.incidents()).find((x) => x.deviceId === "dev-burst");
        return i?.occurrences === 6 ? i : undefined;
      },
    );
    await h.waitFor("every execution ended but the escalating one", () =>
      burst.filter((a) => h!.service.engine.execution(a.alertId)?.status === "SUCCEEDED").length === 5
        ? true
        : undefined,
    );
    // The escalating execution notifies after the folds: wait for its notification (on the timeline once sent)
    // instead of reading the outbox while it may still be in flight.
    const notified = await h.waitFor("the escalating execution's notification", async () => {
      const i = await incidentOf(h!, "dev-burst");
      return i.timeline.some((e) => e.type === "notified") ? i : undefined;
    });
    expect(notified.timeline.filter((e) => e.type === "notified")).toHaveLength(1);
    expect((await h.incidents()).filter((i) => i.deviceId === "dev-burst")).toHaveLength(1);
    expect(h.outbox().filter((n) => n.incidentId === incident.id)).toHaveLength(1);
  });

  it("retries a failing channel and delivers once it recovers", async () => {
    let failures = 2;
    const wrapNotifier = (outbox: Notifier): Notifier => ({
      async send(n) {
        if (failures > 0) {
          failures -= 1;
          throw new ChannelUnavailableError("simulated outage");
        }
        await outbox.send(n);
      },
    });
    h = await startEscalationHarness({ ackTimeoutSeconds: 30, wrapNotifier, retryIntervalMs: 50 });
    await h.start(h.alert("dev-flaky"));
    const n = await h.waitFor("notification after recovery", () => h!.outbox().find((x) => x.tier === 1));
    expect(failures).toBe(0);
    const incident = await incidentOf(h, "dev-flaky");
    expect(incident.timeline.map((e) => e.type)).toEqual(["opened", "policy", "notified"]);
    expect(n.incidentId).toBe(incident.id);
  });

  it("records a channel that keeps failing, alarms on the undelivered tier and still escalates", async () => {
    const wrapNotifier = (outbox: Notifier): Notifier => ({
      async send(n) {
        if (n.tier === 1) throw new ChannelUnavailableError("down");
        await outbox.send(n);
      },
    });
    h = await startEscalationHarness({ ackTimeoutSeconds: 1, wrapNotifier, retryIntervalMs: 20 });
    await h.start(h.alert("dev-down"));
    await h.waitFor("tier-2 notification", () => h!.outbox().find((x) => x.tier === 2));
    const incident = await incidentOf(h, "dev-down");
    const types = incident.timeline.map((e) => e.type);
    expect(types).toContain("notification_failed");
    expect(types).toContain("tier_undelivered");
    expect(incident.timeline.find((e) => e.type === "notification_failed")?.detail).toContain(
      "ChannelUnavailableError",
    );
  });

  it("refuses a replayed link (409) and an expired link (410) and a forged one (400)", async () => {
    // Replay and forgery with links that live long enough on a loaded machine; expiry with 1 s links below.
    h = await startEscalationHarness({ ackTimeoutSeconds: 30, ackLinkTtlSeconds: 600 });
    await h.start(h.alert("dev-replay"));
    const n = await h.waitFor("notification", () => h!.outbox().find((x) => x.tier === 1));
    expect((await fetch(n.ackUrl, { method: "POST" })).status).toBe(200);
    const replay = await fetch(n.ackUrl, { method: "POST" });
    expect(replay.status).toBe(409);
    expect(await replay.text()).toContain("already been used");

    const forged = await fetch(
      n.ackUrl.replace(
        /token=([^.]+)\.(.)/,
        (_m, a: string, b: string) => `token=${a}.${b === "A" ? "B" : "A"}`,
      ),
    );
    expect(forged.status).toBe(400);

    await h.stop();
    h = await startEscalationHarness({ ackTimeoutSeconds: 30, ackLinkTtlSeconds: 1 });
    await h.start(h.alert("dev-expired"));
    const late = await h.waitFor("notification", () => h!.outbox().find((x) => x.deviceId === "dev-expired"));
    await h.waitFor("the link's expiry", () =>
      Date.now() > Date.parse(late.ackExpiresAt) ? true : undefined,
    );
    expect((await fetch(late.ackUrl)).status).toBe(410);
    const expired = await fetch(late.ackUrl, { method: "POST" });
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain("expired");
    expect((await incidentOf(h, "dev-expired")).state).toBe("open");
  });

  it("runs concurrent alerts for different devices as separate incidents", async () => {
    h = await startEscalationHarness({ ackTimeoutSeconds: 30 });
    const devices = Array.from({ length: 8 }, (_, i) => `dev-par-${i}`);
    const results = await Promise.all(devices.map((d) => h!.start(h!.alert(d))));
    expect(results.every((r) => r.started)).toBe(true);
    await h.waitFor("8 notifications", () => (h!.outbox().length === 8 ? true : undefined));
    const incidents = await h.incidents();
    expect(new Set(incidents.map((i) => i.deviceId))).toEqual(new Set(devices));
    // Acknowledge them all concurrently through the API.
    await Promise.all(
      incidents.map(async (i) =>
        fetch(`${h!.baseUrl}/api/incidents/${i.id}/ack`, {
          method: "POST",
          headers: await h!.auth("ops"),
        }),
      ),
    );
    await h.waitFor("all acknowledged", async () =>
      (await h!.incidents()).every((i) => i.state === "acknowledged") ? true : undefined,
    );
  });

  it("closes on resolve and auto-resolves after the quiet period; a later alert opens a new incident", async () => {
    h = await startEscalationHarness({
      ackTimeoutSeconds: 30,
      env: { DRIFTWATCH_AUTO_RESOLVE_SECONDS: "1" },
    });
    const alert = h.alert("dev-close");
    await h.start(alert);
    await h.waitFor("notification", () => h!.outbox().find((x) => x.tier === 1));
    const incident = await incidentOf(h, "dev-close");
    const res = await fetch(`${h.baseUrl}/api/incidents/${incident.id}/resolve`, {
      method: "POST",
      headers: await h.auth("Sam"),
    });
    expect(res.status).toBe(200);
    await h.waitFor("execution ended", () =>
      h!.service.engine.execution(alert.alertId)?.status === "SUCCEEDED" ? true : undefined,
    );
    expect((await incidentOf(h, "dev-close")).resolvedBy).toBe("Sam");

    const next = h.alert("dev-close");
    await h.start(next);
    const second = await h.waitFor("second incident", async () =>
      (await h!.incidents()).find((i) => i.deviceId === "dev-close" && i.id !== incident.id),
    );
    const n = await h.waitFor("its notification", () => h!.outbox().find((x) => x.incidentId === second.id));
    await fetch(n.ackUrl, { method: "POST" });
    await h.waitFor("auto-resolved", async () => {
      const i = (await h!.incidents()).find((x) => x.id === second.id);
      return i?.state === "resolved" ? i : undefined;
    });
    const closed = (await h.incidents()).find((x) => x.id === second.id)!;
    expect(closed.timeline.at(-1)?.type).toBe("auto_resolved");
  });
});
