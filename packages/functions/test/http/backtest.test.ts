import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it, onTestFinished } from "vitest";
import type { LakeRange, LakeReader } from "@driftwatch/core/ports/lake-reader";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import type { Reading } from "@driftwatch/core/telemetry/reading";
import type { ThresholdRule } from "@driftwatch/core/thresholds/threshold-rule";
import { AthenaLakeReader } from "../../src/adapters/athena-lake-reader.ts";
import { createBacktestHandler, type BacktestDeps } from "../../src/http/backtest.ts";
import { createAuthenticator } from "../../src/http/shared/auth.ts";
import { lambdaContext } from "../support/in-memory-deps.ts";

const MIN = 60_000;
const T0 = Date.UTC(2024, 4, 1, 8);
const device = { deviceId: "press-1", manufacturer: "acme", model: "p100" };
const readings: Reading[] = Array.from({ length: 90 }, (_, i) => ({
  deviceId: device.deviceId,
  ts: new Date(T0 + i * MIN + 1000).toISOString(),
  receivedAt: new Date(T0 + i * MIN + 2000).toISOString(),
  topic: "dt/s/press-1/telemetry",
  source: "canonical",
  manufacturer: "acme",
  model: "p100",
  metrics: { pressure: i % 30 === 29 ? 8 : 3 + (i % 7) / 10 },
  tags: {},
}));

/** A lake stand-in over an array (the handler is under test here; the lake readers have their own tests). */
class ArrayLake implements LakeReader {
  ranges: LakeRange[] = [];
  async *readReadings(range: LakeRange) {
    this.ranges.push(range);
    yield readings.filter(
      (r) =>
        range.deviceIds?.includes(r.deviceId) !== false &&
        Date.parse(r.ts) >= range.fromMs &&
        Date.parse(r.ts) < range.toMs,
    );
  }
}

function deps(lake: LakeReader, rules: ThresholdRule[] = []): BacktestDeps {
  return {
    devices: { get: async (id) => (id === device.deviceId ? device : undefined) },
    thresholds: { getMany: async (scopes) => rules.filter((r) => scopes.includes(r.scope)) },
    lake,
    detectors: rcfDetectorFactory(),
    settings: { windowMs: MIN, warmUpMs: 30 * MIN, silenceWindows: 3, stuckReadings: 10 },
  };
}

function event(body: unknown, groups = "[viewers]"): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "POST /api/backtest",
    rawPath: "/api/backtest",
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      http: {
        method: "POST",
        path: "/api/backtest",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "t",
      },
      authorizer: { jwt: { claims: { "cognito:groups": groups, email: "v@example.com" }, scopes: [] } },
    },
  } as unknown as APIGatewayProxyEventV2;
}

const authenticate = createAuthenticator(undefined);
const call = async (handler: ReturnType<typeof createBacktestHandler>, e: APIGatewayProxyEventV2) => {
  const res = (await handler(e, lambdaContext as never)) as { statusCode: number; body: string };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON, read field by field below
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
};

const body = {
  deviceId: device.deviceId,
  from: new Date(T0 + 30 * MIN).toISOString(),
  to: new Date(T0 + 90 * MIN).toISOString(),
  rule: { bounds: { pressure: { max: 5 } } },
};

describe("POST /api/backtest", () => {
  it("answers a viewer with both rule sets' alerts over the range (warm-up read before it, not counted)", async () => {
    const lake = new ArrayLake();
    const { status, body: out } = await call(
      createBacktestHandler(async () => deps(lake), authenticate),
      event(body),
    );
    expect(status).toBe(200);
    expect(out.readings).toBe(60);
    expect(out.warmUpReadings).toBe(30);
    expect(out.current.alerts).toBe(0);
    expect(out.candidate.byRule).toEqual({ "bound:pressure:high": 2 });
    expect(out.candidate.noiseWarning).toBeNull();
    expect(lake.ranges).toEqual([{ fromMs: T0, toMs: T0 + 90 * MIN, deviceIds: [device.deviceId] }]);
  });

  it("uses the stored rules as the current set and the candidate in place of the device's own rule", async () => {
    const rules = [
      { scope: "model#acme#p100", bounds: { pressure: { max: 7 } } },
      { scope: "device#press-1", bounds: { pressure: { max: 1 } } },
    ] as ThresholdRule[];
    const { body: out } = await call(
      createBacktestHandler(async () => deps(new ArrayLake(), rules), authenticate),
      event({ ...body, rule: {} }),
    );
    expect(out.current.byRule["bound:pressure:high"]).toBe(60); // max 1: every reading
    expect(out.candidate.byRule["bound:pressure:high"]).toBe(2); // the model's max 7 again
  });

  it("400 naming the field for a bad body, unknown fields refused; 404 for an unknown device; 401 without a token", async () => {
    const handler = createBacktestHandler(async () => deps(new ArrayLake()), authenticate);
    const bad = await call(handler, event({ ...body, rule: { bounds: { pressure: { maxx: 1 } } } }));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/maxx/);
    const extra = await call(handler, event({ ...body, dryRun: true }));
    expect(extra.status).toBe(400);
    expect(extra.body.message).toMatch(/dryRun/);
    expect((await call(handler, event({ ...body, deviceId: "nope" }))).status).toBe(404);
    const anonymous = event(body);
    delete (anonymous.requestContext as { authorizer?: unknown }).authorizer;
    expect((await call(handler, anonymous)).status).toBe(401);
  });

  it("answers 400 telling to narrow the range above the configured range length, before reading the lake", async () => {
    const lake = new ArrayLake();
    const long = {
      ...body,
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 3 * 86_400_000).toISOString(),
    };
    const d = deps(lake);
    d.settings = { ...d.settings, maxRangeMs: 2 * 86_400_000 };
    const { status, body: out } = await call(
      createBacktestHandler(async () => d, authenticate),
      event(long),
    );
    expect(status).toBe(400);
    expect(out.message).toMatch(/3 days, more than the 2 days .*narrow the range/);
    expect(lake.ranges).toHaveLength(0);
  });

  it("answers 400 telling to narrow the range when the replay outlives the time budget, never a silent timeout", async () => {
    const d = deps(new ArrayLake());
    d.settings = { ...d.settings, timeBudgetMs: 1 };
    // A detector slow enough that the budget runs out during the replay.
    d.detectors = {
      create: (dimensions) => {
        const inner = rcfDetectorFactory().create(dimensions);
        return {
          dimensions,
          process: (point, series) => {
            const until = performance.now() + 2;
            while (performance.now() < until);
            return inner.process(point, series);
          },
          toCheckpoint: () => new Uint8Array(0),
        };
      },
      restore: () => {
        throw new Error("not used");
      },
    };
    const { status, body: out } = await call(
      createBacktestHandler(async () => d, authenticate),
      event(body),
    );
    expect(status).toBe(400);
    expect(out.message).toMatch(/did not finish within 0 s: narrow the range/);
  });

  it("answers 400 telling to narrow the range when the Athena reader refuses its size", async () => {
    const athena = mockClient(AthenaClient);
    // The unit pool is not isolated: restore the SDK's own send() whatever this test's outcome.
    onTestFinished(() => athena.restore());
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q" });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "SUCCEEDED" } } });
    const cells = (r: Reading) =>
      [
        r.deviceId,
        r.ts,
        r.receivedAt,
        r.topic,
        r.source,
        null,
        r.manufacturer,
        r.model,
        JSON.stringify(r.metrics),
        "{}",
      ].map((v) => (v === null ? {} : { VarCharValue: v }));
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: { Rows: [{ Data: [] }, ...readings.map((r) => ({ Data: cells(r) }))] },
    });
    const lake = new AthenaLakeReader(new AthenaClient({}), {
      database: "db",
      workGroup: "wg",
      maxReadings: 50,
      maxWaitMs: 1000,
      pollMs: 0,
    });
    const { status, body: out } = await call(
      createBacktestHandler(async () => deps(lake), authenticate),
      event(body),
    );
    expect(status).toBe(400);
    expect(out.message).toMatch(/narrow the range/);
  });
});
