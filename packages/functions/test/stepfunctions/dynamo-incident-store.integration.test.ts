import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { newIncident } from "@driftwatch/core/incidents/open-incident";
import { IncidentNotFoundError } from "@driftwatch/core/incidents/errors";
import type { Alert } from "@driftwatch/core/alerts/alert";
import type { IncidentStore } from "@driftwatch/core/ports/incident-store";
import { createTableInput } from "../../../local/src/storage/local-tables.ts";
import { createDynamoIncidentStore } from "../../src/adapters/dynamo-incident-store.ts";
import { createDynamoNonceStore } from "../../src/adapters/dynamo-nonce-store.ts";
import { tables } from "../../src/shared/tables.ts";
import { startDynalite } from "../support/dynalite.ts";

let db: Awaited<ReturnType<typeof startDynalite>>;
let store: IncidentStore;
beforeAll(async () => {
  db = await startDynalite();
  await db.client.send(new CreateTableCommand(createTableInput("incidents", tables.incidents)));
  await db.client.send(new CreateTableCommand(createTableInput("nonces", tables.ackNonces)));
  store = createDynamoIncidentStore(db.client, "incidents");
});
afterAll(async () => db?.stop());

const alert = (alertId: string, deviceId = "dev#1/ä", rule = "bound:temp:high"): Alert => ({
  alertId,
  kind: "threshold",
  rule,
  deviceId,
  ts: "2026-01-01T00:00:00Z",
  windowStart: "2026-01-01T00:00:00Z",
  metrics: {},
  attribution: [],
  causes: [],
  message: "m",
});

describe("DynamoDB incident store (dynalite)", () => {
  it("opens with a dedupe pointer; a retry is `exists`, another incident is a `conflict`", async () => {
    const a = newIncident(alert("a1"), "a1", new Date("2026-01-01T00:00:00Z"));
    expect(await store.open(a)).toEqual({ outcome: "opened" });
    expect(await store.open(a)).toEqual({ outcome: "exists" });
    const b = newIncident(alert("a2"), "a2", new Date("2026-01-01T00:01:00Z"));
    expect(await store.open(b)).toMatchObject({ outcome: "conflict", openIncidentId: a.id });
    expect(await store.openPointer(a.deviceId, a.rule)).toEqual({ incidentId: a.id, createdAt: a.openedAt });
    expect((await store.get(a.id))?.incident).toEqual(a);
    expect(await store.get(b.id)).toBeUndefined();
  });

  it("folds each alert once and only into an active incident", async () => {
    const a = newIncident(alert("f1", "dev-fold"), "f1", new Date());
    await store.open(a);
    const entry = { at: "2026-01-01T00:02:00.000Z", type: "occurrence" as const, detail: "f2" };
    expect(await store.fold(a.id, { alertId: "f2", at: entry.at, entry })).toBe("folded");
    expect(await store.fold(a.id, { alertId: "f2", at: entry.at, entry })).toBe("duplicate");
    expect(await store.fold(a.id, { alertId: "f1", at: entry.at })).toBe("duplicate");
    expect(await store.fold("inc-none", { alertId: "x", at: entry.at })).toBe("missing");
    const record = (await store.get(a.id))!;
    expect(record.incident.occurrences).toBe(2);
    expect(record.incident.lastOccurrenceAt).toBe(entry.at);
    expect(record.incident.timeline.at(-1)).toEqual(entry);
    await store.update(a.id, { state: "resolved" });
    expect(await store.fold(a.id, { alertId: "f3", at: entry.at })).toBe("inactive");
  });

  it("applies conditional updates and returns the task token they replaced", async () => {
    const a = newIncident(alert("u1", "dev-upd"), "u1", new Date());
    await store.open(a);
    expect(
      (await store.update(a.id, { expectStates: ["open"], taskToken: "tok-1" }))?.previousTaskToken,
    ).toBeUndefined();
    const acked = await store.update(a.id, {
      expectStates: ["open", "unacknowledged"],
      state: "acknowledged",
      set: { acknowledgedAt: "2026-01-01T00:03:00.000Z", acknowledgedBy: "Dana" },
      entry: { at: "2026-01-01T00:03:00.000Z", type: "acknowledged", actor: "Dana" },
      taskToken: null,
    });
    expect(acked?.previousTaskToken).toBe("tok-1");
    expect(acked?.incident).toMatchObject({ state: "acknowledged", acknowledgedBy: "Dana" });
    expect(await store.update(a.id, { expectStates: ["open"], state: "acknowledged" })).toBeUndefined();
    expect((await store.get(a.id))!.taskToken).toBeUndefined();
    await expect(store.update("inc-none", { state: "resolved" })).rejects.toBeInstanceOf(
      IncidentNotFoundError,
    );
  });

  it("records notifications, lists newest first, and closes only its own pointer", async () => {
    const a = newIncident(alert("n1", "dev-list"), "n1", new Date("2030-01-01T00:00:00Z"));
    await store.open(a);
    await store.markNotified(
      a.id,
      "1#1#outbox",
      { at: "2030-01-01T00:00:01.000Z", type: "notified", tier: 1, round: 1, channel: "outbox" },
      1,
      1,
    );
    const record = (await store.get(a.id))!;
    expect(record.notified).toEqual(["1#1#outbox"]);
    expect(record.incident.tier).toBe(1);
    const listed = await store.list();
    expect(listed[0].id).toBe(a.id);
    expect(listed.every((i) => typeof i.id === "string")).toBe(true);
    await store.closePointer(a.deviceId, a.rule, "inc-other");
    expect(await store.openPointer(a.deviceId, a.rule)).toBeDefined();
    await store.closePointer(a.deviceId, a.rule, a.id);
    expect(await store.openPointer(a.deviceId, a.rule)).toBeUndefined();
  });

  it("consumes a link nonce exactly once, also under concurrency", async () => {
    const nonces = createDynamoNonceStore(db.client, "nonces");
    const results = await Promise.all(Array.from({ length: 10 }, () => nonces.consume("n-1", 2_000_000_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await nonces.release("n-1");
    expect(await nonces.consume("n-1", 2_000_000_000)).toBe(true);
  });
});
