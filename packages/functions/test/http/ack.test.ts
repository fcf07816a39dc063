import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { createAckLinkSigner } from "@driftwatch/core/escalation/ack-link";
import { openOrFold } from "@driftwatch/core/incidents/open-or-fold";
import type { NonceStore } from "@driftwatch/core/ports/nonce-store";
import { createAckHandler } from "../../src/http/ack.ts";
import { configureObservability } from "../../src/shared/observability.ts";
import { createIncidentsApiHandler } from "../../src/http/incidents.ts";
import {
  fixedClock,
  MemoryIncidentStore,
  RecordingTaskTokens,
} from "../../../core/test/incidents/memory-incident-store.ts";

const context = { functionName: "ack", awsRequestId: "r" } as Context;
const event = (
  method: string,
  query: Record<string, string> = {},
  body?: string,
  rawPath = "/ack",
): APIGatewayProxyEventV2 =>
  ({
    version: "2.0",
    rawPath,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: body ? { "content-type": "application/x-www-form-urlencoded" } : {},
    queryStringParameters: query,
    requestContext: { http: { method, path: rawPath } },
    body,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEventV2;

async function setup() {
  const store = new MemoryIncidentStore();
  const tokens = new RecordingTaskTokens();
  const clock = fixedClock(Date.parse("2026-01-01T00:00:00Z"));
  const used = new Set<string>();
  const nonces: NonceStore = {
    consume: async (n) => (used.has(n) ? false : (used.add(n), true)),
    release: async (n) => void used.delete(n),
  };
  const signer = createAckLinkSigner({ keys: [new Uint8Array(32).fill(3)], ttlSeconds: 600 });
  const deps = { store, tokens, clock, nonces, signer };
  const { incidentId } = await openOrFold(
    deps,
    {
      alertId: "a",
      kind: "anomaly",
      rule: "anomaly",
      deviceId: "pump-1",
      ts: "",
      windowStart: "",
      metrics: {},
      attribution: [],
      message: "",
    },
    "a",
  );
  const link = signer.issue({ incidentId, tier: 1, round: 1, channel: "sns:tier-1" }, clock.now());
  return { deps, incidentId, link, clock, store, ack: createAckHandler(async () => deps) };
}

beforeAll(() => configureObservability({ logSink: () => {}, metrics: "off" }));
afterAll(() => configureObservability({}));

describe("acknowledge link handler", () => {
  it("HEAD never acknowledges (link previews); GET does, once", async () => {
    const { ack, link, store, incidentId } = await setup();
    expect((await ack(event("HEAD", { token: link.token }), context)).statusCode).toBe(200);
    expect((await store.get(incidentId))!.incident.state).toBe("open");
    const ok = await ack(event("GET", { token: link.token }), context);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers?.["content-type"]).toContain("text/html");
    expect(ok.body).toContain("acknowledged by link:sns:tier-1");
    const replay = await ack(event("GET", { token: link.token }), context);
    expect(replay.statusCode).toBe(409);
  });

  it("POST takes the name from the form; bad input gets clear 4xx pages", async () => {
    const { ack, link, clock } = await setup();
    const posted = await ack(
      event(
        "POST",
        {},
        `token=${encodeURIComponent(link.token)}&by=${encodeURIComponent("<script>x</script>Ana")}`,
      ),
      context,
    );
    expect(posted.statusCode).toBe(200);
    expect(posted.body).toContain("scriptx/scriptAna");
    expect(posted.body).not.toContain("<script>");
    expect((await ack(event("GET", { token: "garbage" }), context)).statusCode).toBe(400);
    expect((await ack(event("GET", {}), context)).statusCode).toBe(400);
    expect((await ack(event("DELETE", { token: link.token }), context)).statusCode).toBe(405);
    clock.advance(601_000);
    expect((await ack(event("GET", { token: link.token }), context)).statusCode).toBe(410);
  });

  it("incidents API lists, acknowledges and resolves", async () => {
    const { deps, incidentId } = await setup();
    const api = createIncidentsApiHandler(async () => deps, { defaultActor: "local-operator" });
    const list = await api(event("GET", {}, undefined, "/api/incidents"), context);
    expect(JSON.parse(list.body!)).toHaveLength(1);
    const acked = await api(
      { ...event("POST", {}, undefined, `/api/incidents/${incidentId}/ack`), body: '{"by":"Kim"}' },
      context,
    );
    expect(JSON.parse(acked.body!)).toMatchObject({
      outcome: "acknowledged",
      incident: { acknowledgedBy: "Kim" },
    });
    const resolved = await api(event("POST", {}, undefined, `/api/incidents/${incidentId}/resolve`), context);
    expect(JSON.parse(resolved.body!)).toMatchObject({
      outcome: "resolved",
      incident: { state: "resolved", resolvedBy: "local-operator" },
    });
    expect((await api(event("GET", {}, undefined, "/api/incidents/inc-none"), context)).statusCode).toBe(404);
    expect((await api(event("DELETE", {}, undefined, "/api/incidents"), context)).statusCode).toBe(405);
  });

  it("incidents API answers a malformed percent-encoded id with 400, not a handler error", async () => {
    const { deps } = await setup();
    const api = createIncidentsApiHandler(async () => deps);
    const res = await api(event("GET", {}, undefined, "/api/incidents/%E0%A4%A"), context);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body!)).toMatchObject({ error: "BadRequest" });
  });
});
