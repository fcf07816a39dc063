import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { createAckLinkSigner } from "@driftwatch/core/escalation/ack-link";
import { openOrFold } from "@driftwatch/core/incidents/open-or-fold";
import type { NonceStore } from "@driftwatch/core/ports/nonce-store";
import { createAckHandler } from "../../src/http/ack.ts";
import { configureObservability } from "../../src/shared/observability.ts";
import { fixedClock, MemoryIncidentStore, RecordingTaskTokens } from "@driftwatch/core/testing";

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
      causes: [],
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
  it("GET and HEAD show a confirmation page and acknowledge nothing; its POST acknowledges, once", async () => {
    const { ack, link, store, incidentId } = await setup();
    expect((await ack(event("HEAD", { token: link.token }), context)).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) {
      const page = await ack(event("GET", { token: link.token }), context);
      expect(page.statusCode).toBe(200);
      expect(page.headers?.["content-type"]).toContain("text/html");
      expect(page.body).toContain("Nothing has been acknowledged yet");
      expect(page.body).toContain('<form method="post">');
      expect(page.body).toContain(`name="token" value="${link.token}"`);
    }
    expect((await store.get(incidentId))!.incident.state).toBe("open");
    const ok = await ack(event("POST", { token: link.token }), context);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain("acknowledged by link:sns:tier-1");
    expect((await store.get(incidentId))!.incident.state).toBe("acknowledged");
    const replay = await ack(event("POST", { token: link.token }), context);
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
    expect((await ack(event("POST", { token: link.token }), context)).statusCode).toBe(410);
  });
  // The incidents API (http/incidents.ts) is tested with its auth in api.integration.test.ts.
});
