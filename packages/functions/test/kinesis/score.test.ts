import { readFileSync } from "node:fs";
import path from "node:path";
import type { Context } from "aws-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DetectorPool } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import { CachedThresholds } from "@driftwatch/core/thresholds/cached-thresholds";
import { thresholdRuleSchema } from "@driftwatch/core/thresholds/threshold-rule";
import { mergeParts } from "@driftwatch/core/window/stored-part";
import { configureObservability } from "../../src/shared/observability.ts";
import { createScoreHandler, type ScoreEvent } from "../../src/kinesis/score.ts";
import { memoryScoringPorts, testPreparer } from "../../../core/test/scoring/support.ts";

const fixture = (name: string) =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8")) as ScoreEvent;

const context = {
  functionName: "test-driftwatch-Scoring-Score",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:test-driftwatch-Scoring-Score",
  memoryLimitInMB: "1769",
  awsRequestId: "5f2c3f4e-0000-4000-8000-000000000000",
  logGroupName: "/aws/lambda/test-driftwatch-Scoring-Score",
  logStreamName: "2024/05/01/[$LATEST]abc",
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 300_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} as Context;

const devices = [
  { deviceId: "qwbKAMlbZW", manufacturer: "davis", model: "vantage-pro2", site: "seattle" },
  { deviceId: "fan-17", manufacturer: "acme", model: "f100" },
];

function setup() {
  const logs: string[] = [];
  configureObservability({ logSink: (line) => logs.push(line), metrics: "sink", logLevel: "INFO" });
  const ports = memoryScoringPorts([
    thresholdRuleSchema.parse({ scope: "model#acme#f100", bounds: { RPM: { max: 1200 } } }),
  ]);
  const handler = createScoreHandler(async () => ({
    preparer: testPreparer(devices),
    detectors: new DetectorPool(rcfDetectorFactory(), ports.checkpoints, systemClock),
    thresholds: new CachedThresholds(ports.thresholds, systemClock),
    escalation: ports.escalation,
    metrics: ports.metrics,
    archive: ports.archive,
    checkpoints: ports.checkpoints,
    clock: systemClock,
    options: { windowMs: 60_000 },
  }));
  return { ...ports, handler, logs };
}

describe("score handler (Kinesis tumbling window)", () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it("scores a real tumbling-window event and returns the state and no item failures", async () => {
    const res = await t.handler(fixture("tumbling-window-batch.json"), context);
    expect(res.batchItemFailures).toEqual([]);
    expect(Object.keys(res.state).sort()).toEqual(["d", "f", "n", "r", "v", "w"]);
    expect(res.state.w).toBe(String(Date.parse("2024-05-01T10:00:00Z")));
    expect(t.archive.records.map((r) => [r.deviceId, r.shardId, r.windowStart])).toEqual([
      ["qwbKAMlbZW", "shardId-000000000000", "2024-05-01T10:00:00.000Z"],
      ["fan-17", "shardId-000000000000", "2024-05-01T10:00:00.000Z"],
      ["qwbKAMlbZW", "shardId-000000000000", "2024-05-01T10:00:00.000Z"],
    ]);
    // The fan's RPM 1500 breaks the model bound 1200: escalation started at once, not at window end.
    expect([...t.escalation.executions.values()].map((a) => [a.deviceId, a.rule])).toEqual([
      ["fan-17", "bound:RPM:high"],
    ]);
    expect(t.metrics.all()).toEqual([]);
    // EMF metrics were emitted for the invocation; the malformed record was logged by code only.
    const emf = t.logs.filter((l) => l.includes("_aws")).map((l) => JSON.parse(l));
    expect(emf.some((m) => m.RecordsScored === 3 && m.RecordsSkippedInvalid === 1)).toBe(true);
    expect(t.logs.some((l) => l.includes("record rejected") && l.includes("INVALID_JSON"))).toBe(true);
  });

  it("writes aggregates and checkpoints on the final invoke, idempotently when the final invoke is retried", async () => {
    const first = await t.handler(fixture("tumbling-window-batch.json"), context);
    const final = { ...fixture("tumbling-window-final.json"), state: first.state };
    const closed = await t.handler(final, context);
    expect(closed).toEqual({ state: {}, batchItemFailures: [] });
    const snapshot = JSON.stringify([...t.metrics.items.entries()]);
    await t.handler(final, context); // Lambda retries a final invoke until it succeeds
    expect(JSON.stringify([...t.metrics.items.entries()])).toBe(snapshot);
    const views = mergeParts(t.metrics.all());
    expect(views.find((v) => v.deviceId === "qwbKAMlbZW" && v.metric === "temp")).toMatchObject({
      count: 2,
      sum: 63.23 + 63.5,
      min: 63.23,
      max: 63.5,
      windowStart: "2024-05-01T10:00:00.000Z",
      windowEnd: "2024-05-01T10:01:00.000Z",
      firstEventAt: "2024-05-01T09:59:59.000Z",
    });
    expect(views.find((v) => v.deviceId === "fan-17" && v.metric === "RPM")).toMatchObject({
      count: 1,
      anomalies: 1,
    });
    expect([...t.checkpoints.objects.keys()].filter((k) => k.startsWith("models/")).sort()).toEqual([
      "models/shardId-000000000000/acme%23f100%7CFREQ%2CRPM.rcf",
      "models/shardId-000000000000/davis%23vantage-pro2%7Ctemp%2Ctemp_smoothed.rcf",
    ]);
  });

  it("reports a retryable failure as a batch item failure, with the state of the records before it", async () => {
    t.escalation.failNext = 1;
    const res = await t.handler(fixture("tumbling-window-batch.json"), context);
    const event = fixture("tumbling-window-batch.json");
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1].kinesis.sequenceNumber }]);
    expect(res.state.n).toBe("1");
  });
});
