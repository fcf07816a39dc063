import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAckLinkSigner } from "@driftwatch/core/escalation/ack-link";
import { ChannelRejectedError, ChannelUnavailableError } from "@driftwatch/core/escalation/errors";
import type { Notification } from "@driftwatch/core/escalation/notification";
import { parsePolicyCatalogue } from "@driftwatch/core/escalation/policy";
import { acknowledgeIncident } from "@driftwatch/core/incidents/acknowledge";
import { ValidationError } from "@driftwatch/core/shared/errors";
import { fixedClock, MemoryIncidentStore, RecordingTaskTokens } from "@driftwatch/core/testing";
import { configureObservability } from "../../src/shared/observability.ts";
import { createAwaitAckHandler } from "../../src/stepfunctions/await-ack.ts";
import { createCheckQuietHandler } from "../../src/stepfunctions/check-quiet.ts";
import { createNotifyHandler } from "../../src/stepfunctions/notify.ts";
import { createOpenIncidentHandler } from "../../src/stepfunctions/open-incident.ts";
import { createRecordEventHandler } from "../../src/stepfunctions/record-event.ts";
import { createResolvePolicyHandler } from "../../src/stepfunctions/resolve-policy.ts";
import { lambdaContext } from "../support/lambda-context.ts";

/**
 * The six escalation task handlers, each invoked like Lambda does (middy chain included) with the event the state
 * machine sends (fixtures/*.json, `{{incidentId}}` filled in) and the shared Lambda context; the ports are core's
 * test doubles. Metrics and logs go to a sink so the EMF lines can be checked.
 */
function fixture(name: string, incidentId = ""): unknown {
  const text = readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8");
  return JSON.parse(text.replaceAll("{{incidentId}}", incidentId));
}

const catalogue = parsePolicyCatalogue({
  default: { id: "default", tiers: [{ channels: ["outbox"], ackTimeoutSeconds: 600 }] },
  models: {
    "Grundfos#CR-5": {
      id: "pumps",
      tiers: [
        { name: "on-call", channels: ["sns:tier-1", "webhook:oncall"], ackTimeoutSeconds: 900 },
        { name: "lead", channels: ["sns:tier-2"], ackTimeoutSeconds: 1800 },
      ],
      repeat: 1,
      autoResolveAfterSeconds: 3600,
    },
  },
});

let lines: string[];
beforeEach(() => {
  lines = [];
  configureObservability({ logSink: (line) => lines.push(line), metrics: "sink", logLevel: "INFO" });
});
afterEach(() => configureObservability({ logSink: undefined, metrics: "stdout" }));

/** Metric values from the EMF lines the handlers flushed. */
function emitted(name: string): number[] {
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry._aws !== undefined && name in entry)
    .map((entry) => entry[name] as number);
}

function world() {
  const store = new MemoryIncidentStore();
  const clock = fixedClock();
  const tokens = new RecordingTaskTokens();
  const sent: Notification[] = [];
  let failWith: Error | undefined;
  const notifier = {
    async send(n: Notification) {
      if (failWith) throw failWith;
      sent.push(n);
    },
  };
  const signer = createAckLinkSigner({ keys: [Buffer.alloc(32, 7)], ttlSeconds: 3600, nonce: () => "n-1" });
  const deps = async () => ({
    store,
    clock,
    tokens,
    notifier,
    signer,
    catalogue,
    overrides: {},
    ackBaseUrl: "https://ack.example/ack",
  });
  const open = async () => {
    const result = await createOpenIncidentHandler(deps)(fixture("open-incident"), lambdaContext);
    return result.incidentId;
  };
  return { store, clock, tokens, sent, deps, open, failOn: (error: Error) => (failWith = error) };
}

describe("OpenOrFold", () => {
  it("opens an incident for the alert (idempotently), then folds another alert of the same device and rule", async () => {
    const w = world();
    const handler = createOpenIncidentHandler(w.deps);
    const first = await handler(fixture("open-incident"), lambdaContext);
    expect(first).toMatchObject({ action: "opened" });
    expect(await handler(fixture("open-incident"), lambdaContext)).toEqual(first); // a retried task
    const event = fixture("open-incident") as { alert: { alertId: string }; executionName: string };
    const second = await handler(
      { alert: { ...event.alert, alertId: "a-second" }, executionName: "a-second" },
      lambdaContext,
    );
    expect(second).toEqual({ action: "folded", incidentId: first.incidentId });
    const incident = (await w.store.get(first.incidentId))!.incident;
    expect(incident).toMatchObject({ deviceId: "pump-1", rule: "anomaly", state: "open" });
    expect(emitted("IncidentsOpened")).toEqual([1, 1]);
    expect(emitted("AlertsFolded")).toEqual([1]);
  });

  it("refuses an event without an alert, naming the field", async () => {
    const error = await createOpenIncidentHandler(world().deps)({ executionName: "x" }, lambdaContext).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe("OpenOrFold: invalid input (alert)");
  });
});

describe("ResolvePolicy", () => {
  it("returns the model's policy in the shape the state machine iterates and records it on the incident", async () => {
    const w = world();
    const incidentId = await w.open();
    const policy = await createResolvePolicyHandler(w.deps)(
      fixture("resolve-policy", incidentId),
      lambdaContext,
    );
    expect(policy).toEqual({
      policyId: "pumps",
      scope: "model",
      tiers: [
        {
          number: 1,
          name: "on-call",
          channels: ["sns:tier-1", "webhook:oncall"],
          channelCount: 2,
          ackTimeoutSeconds: 900,
        },
        { number: 2, name: "lead", channels: ["sns:tier-2"], channelCount: 1, ackTimeoutSeconds: 1800 },
      ],
      tierCount: 2,
      repeat: 1,
      rounds: 2,
      quietSeconds: 3600,
    });
    const incident = (await w.store.get(incidentId))!.incident;
    expect(incident.timeline.at(-1)).toMatchObject({ type: "policy", detail: "model:pumps" });
  });
});

describe("Notify", () => {
  it("sends the tier's notification with a signed acknowledgement link, once per (tier, round, channel)", async () => {
    const w = world();
    const incidentId = await w.open();
    const handler = createNotifyHandler(w.deps);
    expect(await handler(fixture("notify", incidentId), lambdaContext)).toEqual({ status: "sent" });
    expect(await handler(fixture("notify", incidentId), lambdaContext)).toEqual({ status: "duplicate" });
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]).toMatchObject({
      incidentId,
      tier: 1,
      tierName: "on-call",
      tierCount: 2,
      round: 1,
      channel: "sns:tier-1",
      deviceId: "pump-1",
    });
    expect(w.sent[0]!.ackUrl).toMatch(/^https:\/\/ack\.example\/ack\?token=/);
    expect(emitted("NotificationsSent")).toEqual([1]);
  });

  it("propagates channel errors by name (the state machine retries or moves on) and counts them", async () => {
    const w = world();
    const incidentId = await w.open();
    const handler = createNotifyHandler(w.deps);
    w.failOn(new ChannelUnavailableError("SNS publish failed (Throttled)", { code: "Throttled" }));
    await expect(handler(fixture("notify", incidentId), lambdaContext)).rejects.toMatchObject({
      name: "ChannelUnavailableError",
    });
    w.failOn(new ChannelRejectedError("SNS rejected the notification (AuthorizationErrorException)"));
    await expect(handler(fixture("notify", incidentId), lambdaContext)).rejects.toMatchObject({
      name: "ChannelRejectedError",
    });
    expect(emitted("NotificationAttemptsFailed")).toEqual([1, 1]);
  });
});

describe("AwaitAck", () => {
  it("stores the task token while the incident waits for an acknowledgement", async () => {
    const w = world();
    const incidentId = await w.open();
    const event = fixture("await-ack", incidentId) as { taskToken: string };
    expect(await createAwaitAckHandler(w.deps)(event, lambdaContext)).toEqual({ waiting: true });
    expect((await w.store.get(incidentId))!.taskToken).toBe(event.taskToken);
    expect(w.tokens.sent).toEqual([]);
  });

  it("completes the wait at once when the incident was acknowledged before the token was stored", async () => {
    const w = world();
    const incidentId = await w.open();
    w.clock.advance(60_000);
    await acknowledgeIncident(await w.deps(), { incidentId, actor: "link", via: "link" });
    const event = fixture("await-ack", incidentId) as { taskToken: string };
    w.tokens.waiting.add(event.taskToken);
    expect(await createAwaitAckHandler(w.deps)(event, lambdaContext)).toEqual({ waiting: false });
    expect(w.tokens.sent).toEqual([
      {
        token: event.taskToken,
        output: {
          action: "acknowledged",
          acknowledgedBy: "link",
          acknowledgedAt: "2026-01-01T00:01:00.000Z",
        },
      },
    ]);
  });
});

describe("CheckQuiet", () => {
  it("waits out the quiet period, then resolves the incident", async () => {
    const w = world();
    const incidentId = await w.open();
    const handler = createCheckQuietHandler(w.deps);
    expect(await handler(fixture("check-quiet", incidentId), lambdaContext)).toEqual({
      done: false,
      waitSeconds: 3600, // the quiet period runs from the last occurrence (opened at the clock's now)
    });
    w.clock.advance(3600 * 1000);
    expect(await handler(fixture("check-quiet", incidentId), lambdaContext)).toEqual({
      done: true,
      waitSeconds: 0,
    });
    expect((await w.store.get(incidentId))!.incident.state).toBe("resolved");
    expect(emitted("IncidentsClosed")).toEqual([1]);
  });
});

describe("RecordEvent", () => {
  it("records a failed channel on the timeline with the error name only (never the cause) and counts it", async () => {
    const w = world();
    const incidentId = await w.open();
    expect(
      await createRecordEventHandler(w.deps)(fixture("record-event", incidentId), lambdaContext),
    ).toEqual({
      recorded: true,
    });
    const entry = (await w.store.get(incidentId))!.incident.timeline.at(-1);
    expect(entry).toMatchObject({
      type: "notification_failed",
      tier: 1,
      round: 1,
      channel: "webhook:oncall",
      detail: "ChannelRejectedError",
    });
    expect(JSON.stringify(entry)).not.toContain("404");
    expect(emitted("NotificationChannelFailures")).toEqual([1]);
    expect(lines.join("\n")).not.toContain("webhook answered 404");
  });

  it("records nothing without an incident (it could not be opened) but still counts the event", async () => {
    const w = world();
    const event = { type: "error", step: "OpenOrFold", error: { Error: "TransientError" } };
    expect(await createRecordEventHandler(w.deps)(event, lambdaContext)).toEqual({ recorded: false });
    expect(emitted("EscalationStepErrors")).toEqual([1]);
  });
});
