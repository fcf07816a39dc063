import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openOrFold } from "@driftwatch/core/incidents/open-or-fold";
import { DynamoDeviceCatalog } from "../../src/adapters/dynamo-device-catalog.ts";
import { DynamoDeviceRegistry } from "../../src/adapters/dynamo-device-registry.ts";
import { createDynamoIncidentStore } from "../../src/adapters/dynamo-incident-store.ts";
import { DynamoMetricsStore } from "../../src/adapters/dynamo-metrics-store.ts";
import {
  DynamoThresholdsHistory,
  DynamoThresholdsStore,
} from "../../src/adapters/dynamo-thresholds-store.ts";
import { createDevicesHandler } from "../../src/http/devices.ts";
import { createIncidentsHandler } from "../../src/http/incidents.ts";
import { createMeHandler } from "../../src/http/me.ts";
import { createMetricsHandler } from "../../src/http/metrics.ts";
import { createAuthenticator, createTokenVerifier } from "../../src/http/shared/auth.ts";
import type { ApiDeps } from "../../src/http/shared/deps.ts";
import { createThresholdsHandler } from "../../src/http/thresholds.ts";
import { configureObservability } from "../../src/shared/observability.ts";
import { tables, type TableDefinition } from "../../src/shared/tables.ts";
import { RecordingTaskTokens } from "@driftwatch/core/testing";
import { startDynalite } from "../support/dynalite.ts";

const ISSUER = "https://issuer.test/pool";
const AUDIENCE = "console-client";
const context = {
  functionName: "api",
  awsRequestId: "r",
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

let db: Awaited<ReturnType<typeof startDynalite>>;
let privateKey: KeyLike;
let otherKey: KeyLike;
let publicJwk: JWK;
type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;
let handlers: Record<"me" | "devices" | "metrics" | "thresholds" | "incidents", Handler>;
let incidentIds: string[];
let tokens: RecordingTaskTokens;

async function createTableFrom(name: string, table: TableDefinition): Promise<void> {
  const attributes = new Map<string, { AttributeName: string; AttributeType: "S" | "N" | "B" }>();
  const keys = [
    table.partitionKey,
    table.sortKey,
    ...(table.globalIndexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  for (const k of keys) if (k) attributes.set(k.name, { AttributeName: k.name, AttributeType: k.type });
  const schema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: "HASH" as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: "RANGE" as const }] : []),
  ];
  await db.client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [...attributes.values()],
      KeySchema: schema(table.partitionKey, table.sortKey),
      ...(table.globalIndexes?.length
        ? {
            GlobalSecondaryIndexes: table.globalIndexes.map((i) => ({
              IndexName: i.indexName,
              KeySchema: schema(i.partitionKey, i.sortKey),
              Projection: { ProjectionType: "ALL" as const },
            })),
          }
        : {}),
    }),
  );
}

async function token(
  claims: Record<string, unknown>,
  options: { key?: KeyLike; exp?: number; iss?: string; aud?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt(now - 10)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(options.key ?? privateKey);
}
const operator = () => token({ sub: "u-1", email: "olga@example.com", "cognito:groups": ["operators"] });
const viewer = () => token({ sub: "u-2", "cognito:username": "vic", "cognito:groups": ["viewers"] });

function event(
  method: string,
  path: string,
  options: {
    bearer?: string;
    body?: unknown;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers,
    queryStringParameters: options.query,
    requestContext: { http: { method, path, sourceIp: "127.0.0.1" } },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === "string"
          ? options.body
          : JSON.stringify(options.body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function call(
  which: keyof typeof handlers,
  method: string,
  path: string,
  options: Parameters<typeof event>[2] = {},
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const res = await handlers[which](event(method, path, options), context);
  return {
    status: res.statusCode ?? 200,
    body: res.body ? JSON.parse(res.body) : undefined,
    headers: (res.headers ?? {}) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  configureObservability({ logSink: () => {}, metrics: "off" });
  db = await startDynalite();
  for (const t of [
    tables.devices,
    tables.metrics,
    tables.thresholds,
    tables.thresholdHistory,
    tables.incidents,
  ]) {
    await createTableFrom(`t-${t.id}`, t);
  }
  ({ privateKey } = await generateKeyPair("ES256", { extractable: true }));
  ({ privateKey: otherKey } = await generateKeyPair("ES256"));
  const { d: _d, ...pub } = await exportJWK(privateKey);
  publicJwk = { ...pub, kid: "k1", alg: "ES256" };
  const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } });
  const authenticate = createAuthenticator(async () => verifier);
  const incidents = createDynamoIncidentStore(db.client, "t-Incidents");
  tokens = new RecordingTaskTokens();
  const clock = { now: () => Date.now() };
  const deps: ApiDeps = {
    devices: new DynamoDeviceRegistry(db.client, "t-Devices"),
    catalog: new DynamoDeviceCatalog(db.client, "t-Devices", "t-Metrics"),
    metrics: new DynamoMetricsStore(db.client, "t-Metrics"),
    thresholds: new DynamoThresholdsStore(db.client, "t-Thresholds"),
    history: new DynamoThresholdsHistory(db.client, "t-ThresholdHistory"),
    incidents,
    tokens: tokens as never,
    clock,
    defaults: { silenceWindows: 3, stuckReadings: 10 },
  };
  const get = async () => deps;
  handlers = {
    me: createMeHandler(authenticate),
    devices: createDevicesHandler(get, authenticate),
    metrics: createMetricsHandler(get, authenticate),
    thresholds: createThresholdsHandler(get, authenticate),
    incidents: createIncidentsHandler(get, authenticate),
  } as never;
  incidentIds = [];
  for (const [deviceId, rule] of [
    ["pump-7", "bound:pressure:high"],
    ["pump-8", "anomaly"],
  ]) {
    const alert = {
      alertId: `a-${deviceId}`,
      kind: rule === "anomaly" ? "anomaly" : "threshold",
      rule,
      deviceId,
      ts: new Date().toISOString(),
      windowStart: new Date().toISOString(),
      metrics: {},
      attribution: [],
      causes: [],
      message: "test",
    };
    const { incidentId } = await openOrFold(
      { store: incidents, clock } as never,
      alert as never,
      `x-${deviceId}`,
    );
    incidentIds.push(incidentId);
  }
});

afterAll(async () => {
  await db?.stop();
  configureObservability({});
});

describe("operator API authentication", () => {
  it("401 without a token, with a malformed, badly signed, expired or foreign-issuer token", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      undefined,
      "not-a-jwt",
      await token({ sub: "x", "cognito:groups": ["operators"] }, { key: otherKey }),
      await token({ sub: "x", "cognito:groups": ["operators"] }, { exp: now - 120 }),
      await token({ sub: "x", "cognito:groups": ["operators"] }, { iss: "https://evil.test" }),
      await token({ sub: "x", "cognito:groups": ["operators"] }, { aud: "another-client" }),
    ];
    for (const bearer of cases) {
      const res = await call("thresholds", "GET", "/api/thresholds", { bearer });
      expect(res.status, String(bearer)).toBe(401);
      expect(res.body.error).toBe("Unauthorized");
    }
    const expired = await call("thresholds", "GET", "/api/thresholds", {
      bearer: await token({ sub: "x", "cognito:groups": ["operators"] }, { exp: now - 120 }),
    });
    expect(expired.body.message).toMatch(/expired/);
  });

  it("401 comes before validation: an unauthenticated bad body learns nothing", async () => {
    const res = await call("thresholds", "PUT", "/api/thresholds/global", { body: "{nope" });
    expect(res.status).toBe(401);
  });

  it("GET /api/me names the user and role; security headers are set", async () => {
    const me = await call("me", "GET", "/api/me", { bearer: await operator() });
    expect(me).toMatchObject({ status: 200, body: { user: "olga@example.com", role: "operator" } });
    expect(Object.keys(me.headers).map((h) => h.toLowerCase())).toContain("strict-transport-security");
    expect((await call("me", "GET", "/api/me", { bearer: await viewer() })).body).toEqual({
      user: "vic",
      role: "viewer",
    });
  });

  it("trusts API Gateway's JWT authorizer claims (flattened groups) when present", async () => {
    const e = event("PUT", "/api/thresholds/global", { body: { scoreThreshold: 4 } });
    (e.requestContext as any).authorizer = {
      jwt: { claims: { sub: "s", email: "a@b.c", "cognito:groups": "[viewers]" } },
    };
    const res = await handlers.thresholds(e, context);
    expect(res.statusCode).toBe(403);
  });

  it("403 for a viewer's writes on every resource; viewers read", async () => {
    const bearer = await viewer();
    expect((await call("thresholds", "PUT", "/api/thresholds/global", { bearer, body: {} })).status).toBe(
      403,
    );
    // Authorization comes before body parsing: a viewer's write is a 403 whatever its body.
    expect(
      (await call("thresholds", "PUT", "/api/thresholds/global", { bearer, body: "{nope" })).status,
    ).toBe(403);
    expect((await call("thresholds", "DELETE", "/api/thresholds/global", { bearer })).status).toBe(403);
    expect((await call("devices", "POST", "/api/devices", { bearer, body: [] })).status).toBe(403);
    const ack = await call("incidents", "POST", `/api/incidents/${incidentIds[0]}/ack`, { bearer });
    expect(ack).toMatchObject({ status: 403, body: { error: "Forbidden" } });
    expect((await call("thresholds", "GET", "/api/thresholds", { bearer })).status).toBe(200);
  });
});

describe("thresholds API", () => {
  it("400 naming the field: unknown fields, wrong types, min > max, an unknown scope, non-JSON", async () => {
    const bearer = await operator();
    const put = (path: string, body: unknown) => call("thresholds", "PUT", path, { bearer, body });
    const unknown = await put("/api/thresholds/devices/pump-7", { metric: "pressure", max: 5 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/unknown field\(s\) metric, max/);
    const nested = await put("/api/thresholds/devices/pump-7", { bounds: { pressure: { maximum: 5 } } });
    expect(nested.body.message).toMatch(/bounds\.pressure\.maximum/);
    const type = await put("/api/thresholds/devices/pump-7", { bounds: { pressure: { max: "5" } } });
    expect(type).toMatchObject({ status: 400 });
    expect(type.body.message).toMatch(/bounds\.pressure\.max: expected number, received string/);
    const order = await put("/api/thresholds/devices/pump-7", { bounds: { pressure: { min: 9, max: 5 } } });
    expect(order.body.message).toMatch(/bounds\.pressure\.min: min must not exceed max/);
    const scope = await put("/api/thresholds/sites/north", { scoreThreshold: 3 });
    expect(scope.status).toBe(400);
    expect(scope.body.issues[0].path).toBe("scope");
    const legacy = await put("/api/thresholds/device%23pump-7", { scoreThreshold: 3 });
    expect(legacy.status).toBe(400);
    const notJson = await call("thresholds", "PUT", "/api/thresholds/global", { bearer, body: "{nope" });
    expect(notJson).toMatchObject({ status: 400, body: { issues: [{ path: "body" }] } });
    expect((await put("/api/thresholds/global", undefined)).status).toBe(400);
    expect((await call("thresholds", "GET", "/api/thresholds")).status).toBe(401);
    expect((await call("thresholds", "GET", "/api/thresholds", { bearer })).body).toEqual([]);
  });

  it("round trip: PUT stores with who/when, GET one and list, history newest first, DELETE 204 records too", async () => {
    const bearer = await operator();
    const before = Date.now();
    const put1 = await call("thresholds", "PUT", "/api/thresholds/models/acme/p1", {
      bearer,
      body: { bounds: { pressure: { min: 1, max: 9 } }, silenceWindows: 0 },
    });
    expect(put1.status).toBe(200);
    expect(put1.body).toMatchObject({
      scope: "models/acme/p1",
      bounds: { pressure: { min: 1, max: 9 } },
      silenceWindows: 0,
      updatedBy: "olga@example.com",
    });
    expect(Date.parse(put1.body.updatedAt)).toBeGreaterThanOrEqual(before - 1000);
    const put2 = await call("thresholds", "PUT", "/api/thresholds/models/acme/p1", {
      bearer,
      body: { bounds: { pressure: { max: 8 } } },
    });
    expect(put2.body.bounds).toEqual({ pressure: { max: 8 } });
    expect((await call("thresholds", "GET", "/api/thresholds/models/acme/p1", { bearer })).body).toEqual(
      put2.body,
    );
    expect((await call("thresholds", "GET", "/api/thresholds", { bearer })).body).toEqual([put2.body]);
    const history = (
      await call("thresholds", "GET", "/api/thresholds/history", {
        bearer,
        query: { scope: "models/acme/p1" },
      })
    ).body;
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({
      scope: "models/acme/p1",
      by: "olga@example.com",
      before: put1.body,
      after: put2.body,
    });
    expect(history[1]).toMatchObject({ before: null, after: put1.body });
    const del = await call("thresholds", "DELETE", "/api/thresholds/models/acme/p1", { bearer });
    expect(del.status).toBe(204);
    expect((await call("thresholds", "GET", "/api/thresholds/models/acme/p1", { bearer })).status).toBe(404);
    const all = (await call("thresholds", "GET", "/api/thresholds/history", { bearer: await viewer() })).body;
    expect(all[0]).toMatchObject({
      scope: "models/acme/p1",
      by: "olga@example.com",
      before: put2.body,
      after: null,
    });
    expect(
      (await call("thresholds", "GET", "/api/thresholds/history", { bearer, query: { scope: "nope" } }))
        .status,
    ).toBe(400);
  });
});

describe("devices, metrics and incidents API", () => {
  it("imports devices (strict), lists with filters, gets one, 404s, and shows effective thresholds with scopes", async () => {
    const bearer = await operator();
    const bad = await call("devices", "POST", "/api/devices", {
      bearer,
      body: [{ deviceId: "pump-7", manufacturer: "acme", model: "p1", colour: "red" }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/colour/);
    const imported = await call("devices", "POST", "/api/devices", {
      bearer,
      body: [
        { deviceId: "pump-7", manufacturer: "acme", model: "p1", site: "north" },
        { deviceId: "pump-8", manufacturer: "acme", model: "p2", site: "south" },
      ],
    });
    expect(imported).toMatchObject({ status: 200, body: { imported: 2 } });
    const list = (await call("devices", "GET", "/api/devices", { bearer })).body;
    expect(list.map((d: { deviceId: string }) => d.deviceId)).toEqual(["pump-7", "pump-8"]);
    expect(list[0]).toMatchObject({ site: "north", openIncidents: 1 });
    const north = (await call("devices", "GET", "/api/devices", { bearer, query: { site: "north" } })).body;
    expect(north).toHaveLength(1);
    expect(
      (await call("devices", "GET", "/api/devices", { bearer, query: { search: "P2" } })).body[0].deviceId,
    ).toBe("pump-8");
    expect((await call("devices", "GET", "/api/devices", { bearer, query: { colour: "x" } })).status).toBe(
      400,
    );
    expect((await call("devices", "GET", "/api/devices/pump-7", { bearer })).body).toMatchObject({
      deviceId: "pump-7",
      openIncidents: 1,
    });
    expect((await call("devices", "GET", "/api/devices/nope", { bearer })).status).toBe(404);
    await call("thresholds", "PUT", "/api/thresholds/devices/pump-7", {
      bearer,
      body: { bounds: { pressure: { max: 5 } } },
    });
    await call("thresholds", "PUT", "/api/thresholds/global", {
      bearer,
      body: { bounds: { pressure: { min: 0 } }, silenceWindows: 4 },
    });
    const effective = (
      await call("devices", "GET", "/api/devices/pump-7/thresholds", { bearer: await viewer() })
    ).body;
    expect(effective).toMatchObject({
      deviceId: "pump-7",
      scopes: ["devices/pump-7", "models/acme/p1", "manufacturers/acme", "global"],
      bounds: { pressure: { max: { value: 5, scope: "devices/pump-7" } } },
      scoreThreshold: null,
      silenceWindows: { value: 4, scope: "global" },
      stuckReadings: { value: 10, scope: "default" },
    });
  });

  it("serves a device's window aggregates with exactly the metrics --json fields", async () => {
    const bearer = await viewer();
    const start = Date.parse("2026-01-01T00:00:00Z");
    await new DynamoMetricsStore(db.client, "t-Metrics").putParts([
      {
        deviceId: "pump-7",
        metric: "pressure",
        windowStartMs: start,
        windowEndMs: start + 60_000,
        shardId: "s1",
        segment: "1",
        agg: {
          count: 2,
          sum: 8,
          min: 3,
          max: 5,
          m2: 2,
          mean: 4,
          maxScore: 0.9,
          anomalies: 1,
          firstEventMs: start + 1,
          lastEventMs: start + 2,
        } as never,
      },
    ]);
    const rows = (
      await call("metrics", "GET", "/api/devices/pump-7/metrics", {
        bearer,
        query: { from: "2026-01-01T00:00:00Z" },
      })
    ).body;
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0])).toEqual([
      "deviceId",
      "metric",
      "windowStart",
      "windowEnd",
      "count",
      "sum",
      "min",
      "max",
      "avg",
      "stddev",
      "maxScore",
      "anomalies",
    ]);
    expect(rows[0]).toMatchObject({
      deviceId: "pump-7",
      metric: "pressure",
      count: 2,
      max: 5,
      anomalies: 1,
      windowStart: "2026-01-01T00:00:00.000Z",
    });
    expect(
      (await call("metrics", "GET", "/api/devices/pump-7/metrics", { bearer, query: { from: "yesterday" } }))
        .body.message,
    ).toMatch(/from/);
    expect((await call("devices", "GET", "/api/devices/pump-7", { bearer })).body.lastSeen).toBe(
      new Date(start + 2).toISOString(),
    );
  });

  it("filters incidents by state, device and rule; gets one; ack and resolve record the token's user", async () => {
    const bearer = await operator();
    const all = (await call("incidents", "GET", "/api/incidents", { bearer })).body;
    expect(all).toHaveLength(2);
    const byDevice = (
      await call("incidents", "GET", "/api/incidents", { bearer, query: { deviceId: "pump-8" } })
    ).body;
    expect(byDevice.map((i: { deviceId: string }) => i.deviceId)).toEqual(["pump-8"]);
    expect(
      (await call("incidents", "GET", "/api/incidents", { bearer, query: { rule: "bound:pressure:high" } }))
        .body,
    ).toHaveLength(1);
    expect(
      (await call("incidents", "GET", "/api/incidents", { bearer, query: { state: "bogus" } })).status,
    ).toBe(400);
    const acked = await call("incidents", "POST", `/api/incidents/${incidentIds[0]}/ack`, { bearer });
    expect(acked.body).toMatchObject({
      id: incidentIds[0],
      state: "acknowledged",
      acknowledgedBy: "olga@example.com",
      outcome: "acknowledged",
    });
    const open = (await call("incidents", "GET", "/api/incidents", { bearer, query: { state: "open" } }))
      .body;
    expect(open.map((i: { id: string }) => i.id)).toEqual([incidentIds[1]]);
    const ackedList = (
      await call("incidents", "GET", "/api/incidents", { bearer, query: { state: "acknowledged" } })
    ).body;
    expect(ackedList.map((i: { id: string }) => i.id)).toEqual([incidentIds[0]]);
    const resolved = await call("incidents", "POST", `/api/incidents/${incidentIds[1]}/resolve`, { bearer });
    expect(resolved.body).toMatchObject({ state: "resolved", resolvedBy: "olga@example.com" });
    expect(
      (await call("incidents", "GET", `/api/incidents/${incidentIds[1]}`, { bearer })).body.timeline.length,
    ).toBeGreaterThan(0);
    expect((await call("incidents", "GET", "/api/incidents/inc-none", { bearer })).status).toBe(404);
    expect((await call("incidents", "GET", "/api/incidents/%E0%A4%A", { bearer })).status).toBe(400);
    expect(
      (
        await call("incidents", "POST", `/api/incidents/${incidentIds[0]}/ack`, {
          bearer,
          body: { by: "someone" },
        })
      ).status,
    ).toBe(400);
  });
});
