import { describe, expect, it } from "vitest";
import type { Alert } from "../../src/alerts/alert.ts";
import { acknowledgeIncident, resolveIncident } from "../../src/incidents/acknowledge.ts";
import { MAX_OCCURRENCE_ENTRIES } from "../../src/incidents/incident.ts";
import { incidentIdFor } from "../../src/incidents/incident-id.ts";
import { toIncidentView } from "../../src/incidents/incident-view.ts";
import { openOrFold, STALE_POINTER_MS } from "../../src/incidents/open-or-fold.ts";
import { checkQuietPeriod } from "../../src/incidents/quiet-period.ts";
import { recordEscalationEvent } from "../../src/incidents/record-event.ts";
import { beginAckWait } from "../../src/escalation/await-ack.ts";
import { fixedClock, MemoryIncidentStore, RecordingTaskTokens } from "../../testing/index.ts";

let n = 0;
function alert(deviceId = "dev-1", rule = "anomaly"): Alert {
  n += 1;
  return {
    alertId: `a-${n}`,
    kind: "anomaly",
    rule,
    deviceId,
    ts: "2026-01-01T00:00:00Z",
    windowStart: "2026-01-01T00:00:00Z",
    metrics: {},
    attribution: [{ metric: "pulse", value: 180, contribution: 2, direction: "HIGH" }],
    causes: [],
    message: "m",
  };
}

function setup() {
  const store = new MemoryIncidentStore();
  const tokens = new RecordingTaskTokens();
  const clock = fixedClock();
  return { store, tokens, clock, deps: { store, tokens, clock } };
}

describe("openOrFold", () => {
  it("opens one incident per device and rule and folds later alerts as occurrences", async () => {
    const { deps, store } = setup();
    const first = alert();
    expect(await openOrFold(deps, first, first.alertId)).toEqual({
      action: "opened",
      incidentId: incidentIdFor(first.alertId),
    });
    const second = alert();
    expect(await openOrFold(deps, second, second.alertId)).toEqual({
      action: "folded",
      incidentId: incidentIdFor(first.alertId),
    });
    const other = alert("dev-1", "silence");
    expect((await openOrFold(deps, other, other.alertId)).action).toBe("opened");
    const incident = (await store.get(incidentIdFor(first.alertId)))!.incident;
    expect(incident.occurrences).toBe(2);
    expect(incident.timeline.map((e) => e.type)).toEqual(["opened", "occurrence"]);
  });

  it("is idempotent per alert: a retried open or fold changes nothing", async () => {
    const { deps, store } = setup();
    const first = alert();
    const second = alert();
    await openOrFold(deps, first, first.alertId);
    await openOrFold(deps, first, first.alertId);
    await openOrFold(deps, second, second.alertId);
    await openOrFold(deps, second, second.alertId);
    expect(store.items.size).toBe(1);
    expect((await store.get(incidentIdFor(first.alertId)))!.incident.occurrences).toBe(2);
  });

  it("lets exactly one of many concurrent alerts open; the rest fold", async () => {
    const { deps, store } = setup();
    const alerts = Array.from({ length: 20 }, () => alert("dev-race"));
    const results = await Promise.all(
      alerts.map((a) => openOrFold(deps, a, a.alertId).catch((e: Error) => e.name)),
    );
    const opened = results.filter((r) => typeof r === "object" && r.action === "opened");
    expect(opened).toHaveLength(1);
    // Folds that raced the opener's second write ask to be retried (IncidentNotReadyError); retry them.
    const retried = await Promise.all(
      alerts.map((a, i) => (typeof results[i] === "string" ? openOrFold(deps, a, a.alertId) : results[i])),
    );
    expect(retried.every((r) => typeof r === "object")).toBe(true);
    expect(store.items.size).toBe(1);
    expect([...store.items.values()][0].incident.occurrences).toBe(20);
  });

  it("opens a new incident once the previous one is resolved", async () => {
    const { deps, store } = setup();
    const first = alert();
    const { incidentId } = await openOrFold(deps, first, first.alertId);
    await resolveIncident(deps, { incidentId, actor: "ops" });
    const again = alert();
    const result = await openOrFold(deps, again, again.alertId);
    expect(result.action).toBe("opened");
    expect(result.incidentId).not.toBe(incidentId);
    expect(store.items.size).toBe(2);
  });

  it("takes over a pointer whose incident was never written, after the stale period", async () => {
    const { deps, store, clock } = setup();
    store.pointers.set("dev-1\u0000anomaly", {
      incidentId: "inc-ghost",
      createdAt: new Date(clock.now()).toISOString(),
    });
    const a = alert();
    await expect(openOrFold(deps, a, a.alertId)).rejects.toThrow(/still being created/);
    clock.advance(STALE_POINTER_MS + 1);
    expect((await openOrFold(deps, a, a.alertId)).action).toBe("opened");
  });

  it("caps timeline entries of occurrences but keeps counting", async () => {
    const { deps, store } = setup();
    const first = alert();
    const { incidentId } = await openOrFold(deps, first, first.alertId);
    for (let i = 0; i < MAX_OCCURRENCE_ENTRIES + 10; i++) {
      const a = alert();
      await openOrFold(deps, a, a.alertId);
    }
    const incident = (await store.get(incidentId))!.incident;
    expect(incident.occurrences).toBe(MAX_OCCURRENCE_ENTRIES + 11);
    expect(incident.timeline.filter((e) => e.type === "occurrence")).toHaveLength(MAX_OCCURRENCE_ENTRIES - 1);
  });
});

describe("acknowledge, resolve, quiet period", () => {
  it("acknowledges once, records who and when, and releases the stored wait", async () => {
    const { deps, store, tokens, clock } = setup();
    const a = alert();
    const { incidentId } = await openOrFold(deps, a, a.alertId);
    tokens.waiting.add("tok-1");
    await beginAckWait(deps, { incidentId, taskToken: "tok-1" });
    clock.advance(5000);
    const first = await acknowledgeIncident(deps, { incidentId, actor: "Dana", via: "api" });
    expect(first.outcome).toBe("acknowledged");
    expect(first.incident).toMatchObject({
      state: "acknowledged",
      acknowledgedBy: "Dana",
      acknowledgedAt: "2026-01-01T00:00:05.000Z",
    });
    expect(tokens.sent).toEqual([
      { token: "tok-1", output: expect.objectContaining({ action: "acknowledged", acknowledgedBy: "Dana" }) },
    ]);
    const second = await acknowledgeIncident(deps, { incidentId, actor: "Lee", via: "api" });
    expect(second.outcome).toBe("already-acknowledged");
    expect(second.incident.acknowledgedBy).toBe("Dana");
    expect((await store.get(incidentId))!.taskToken).toBeUndefined();
  });

  it("completes a wait at once when the acknowledgement came before the token was stored", async () => {
    const { deps, tokens } = setup();
    const a = alert();
    const { incidentId } = await openOrFold(deps, a, a.alertId);
    await acknowledgeIncident(deps, { incidentId, actor: "Dana", via: "link" });
    tokens.waiting.add("late-token");
    expect(await beginAckWait(deps, { incidentId, taskToken: "late-token" })).toEqual({ waiting: false });
    expect(tokens.sent[0]).toMatchObject({
      token: "late-token",
      output: { action: "acknowledged", acknowledgedBy: "Dana" },
    });
  });

  it("resolving ends a wait with action resolved and frees the device+rule for a new incident", async () => {
    const { deps, store, tokens } = setup();
    const a = alert();
    const { incidentId } = await openOrFold(deps, a, a.alertId);
    tokens.waiting.add("t");
    await beginAckWait(deps, { incidentId, taskToken: "t" });
    expect((await resolveIncident(deps, { incidentId, actor: "Sam" })).outcome).toBe("resolved");
    expect(tokens.sent[0].output.action).toBe("resolved");
    expect(store.pointers.size).toBe(0);
    expect((await resolveIncident(deps, { incidentId, actor: "Sam" })).outcome).toBe("already-resolved");
    expect((await acknowledgeIncident(deps, { incidentId, actor: "x", via: "api" })).outcome).toBe(
      "already-resolved",
    );
  });

  it("auto-resolves after the quiet period, pushed out by new occurrences", async () => {
    const { deps, store, clock } = setup();
    const a = alert();
    const { incidentId } = await openOrFold(deps, a, a.alertId);
    await acknowledgeIncident(deps, { incidentId, actor: "Dana", via: "api" });
    clock.advance(30_000);
    const b = alert();
    await openOrFold(deps, b, b.alertId);
    clock.advance(40_000);
    expect(await checkQuietPeriod(deps, { incidentId, quietSeconds: 60 })).toEqual({
      done: false,
      waitSeconds: 20,
    });
    clock.advance(20_000);
    expect(await checkQuietPeriod(deps, { incidentId, quietSeconds: 60 })).toEqual({
      done: true,
      waitSeconds: 0,
    });
    const incident = (await store.get(incidentId))!.incident;
    expect(incident.state).toBe("resolved");
    expect(incident.resolvedBy).toBe("driftwatch:auto-resolve");
    expect(incident.timeline.at(-1)?.type).toBe("auto_resolved");
  });

  it("records escalation steps; unacknowledged moves an open incident only", async () => {
    const { deps, store } = setup();
    const a = alert();
    const { incidentId } = await openOrFold(deps, a, a.alertId);
    await recordEscalationEvent(deps, { incidentId, type: "ack_timeout", tier: 1, round: 1 });
    await recordEscalationEvent(deps, { incidentId, type: "unacknowledged", round: 1 });
    expect((await store.get(incidentId))!.incident.state).toBe("unacknowledged");
    expect(await recordEscalationEvent(deps, { incidentId: "inc-missing", type: "error" })).toEqual({
      recorded: false,
    });
    // An unacknowledged incident can still be acknowledged.
    expect((await acknowledgeIncident(deps, { incidentId, actor: "late", via: "api" })).outcome).toBe(
      "acknowledged",
    );
  });

  it("exposes the contract fields and never the task token", async () => {
    const { deps, store } = setup();
    const a = alert();
    const { incidentId } = await openOrFold(deps, a, a.alertId);
    await beginAckWait(deps, { incidentId, taskToken: "secret-token" });
    const view = toIncidentView((await store.get(incidentId))!.incident);
    for (const key of [
      "id",
      "deviceId",
      "rule",
      "state",
      "tier",
      "occurrences",
      "openedAt",
      "acknowledgedAt",
      "acknowledgedBy",
      "timeline",
    ]) {
      expect(view).toHaveProperty(key);
    }
    expect(JSON.stringify(view)).not.toContain("secret-token");
  });
});
