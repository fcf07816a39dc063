import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DetectorPool } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import { encodeEnvelope } from "@driftwatch/core/telemetry/envelope";
import { CachedThresholds } from "@driftwatch/core/thresholds/cached-thresholds";
import { thresholdRuleSchema } from "@driftwatch/core/thresholds/threshold-rule";
import { mergeParts } from "@driftwatch/core/window/stored-part";
import { createScoreHandler } from "@driftwatch/functions/kinesis/score";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import { createLambdaContext } from "../../src/runtime/lambda-context.ts";
import {
  EventSourceMappingEmulator,
  type KinesisWindowHandler,
} from "../../src/scoring/event-source-mapping.ts";
import { FileCheckpointStore } from "../../src/scoring/file-checkpoint-store.ts";
import { LocalKinesisStream } from "../../src/scoring/local-stream.ts";
import {
  MemoryArchive,
  MemoryMetricsStore,
  MemoryThresholds,
  RecordingEscalationStarter,
  testPreparer,
} from "../../../core/test/scoring/support.ts";

/**
 * Fault injection: the REAL scoring handler under the event-source-mapping emulator, failing on chosen records and
 * batches (before and after its side effects), a poison record, and a restart mid-window. Stores are in-memory
 * stand-ins shared across "processes" (they play DynamoDB / Step Functions, which survive a restart).
 */
const stations = ["st-a", "st-b", "st-c", "st-d"];
const devices = stations.map((deviceId) => ({ deviceId, manufacturer: "davis", model: "vantage-pro2" }));
const WINDOW_S = 2;

const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function world() {
  configureObservability({ logSink: () => {}, metrics: "off" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-rel-"));
  dirs.push(dir);
  return {
    dir,
    metrics: new MemoryMetricsStore(),
    escalation: new RecordingEscalationStarter(),
    archive: new MemoryArchive(),
    // Values above 90 break the global bound: alerts are deterministic.
    thresholds: new MemoryThresholds([
      thresholdRuleSchema.parse({ scope: "global", bounds: { temp: { max: 90 } } }),
    ]),
  };
}

function boot(
  w: ReturnType<typeof world>,
  wrap: (h: KinesisWindowHandler) => KinesisWindowHandler = (h) => h,
) {
  const checkpoints = new FileCheckpointStore(path.join(w.dir, "checkpoints"));
  const handler = createScoreHandler(async () => ({
    preparer: testPreparer(devices),
    detectors: new DetectorPool(rcfDetectorFactory(), checkpoints, systemClock),
    thresholds: new CachedThresholds(w.thresholds, systemClock),
    escalation: w.escalation,
    metrics: w.metrics,
    archive: w.archive,
    checkpoints,
    clock: systemClock,
    options: { windowMs: WINDOW_S * 1000, silenceWindows: 0 },
  }));
  const stream = new LocalKinesisStream({
    dir: path.join(w.dir, "stream"),
    streamName: "telemetry",
    shardCount: 2,
  });
  const esm = new EventSourceMappingEmulator({
    stream,
    handler: wrap(async (event, context) => handler(event as never, context)),
    createContext: () => createLambdaContext({ functionName: "score", timeoutMs: 30_000 }),
    timeoutMs: 30_000,
    stateDir: path.join(w.dir, "checkpoints", "esm"),
    dlqDir: path.join(w.dir, "dlq"),
    windowSeconds: WINDOW_S,
    batchSize: 25,
    batchingWindowMs: 10,
    retryAttempts: 2,
    retryBackoffMs: 5,
  });
  const stop = async () => {
    await esm.stop();
    stream.close();
  };
  stops.push(stop);
  esm.start();
  return { stream, esm, stop };
}

/** Publishes `n` weather readings; value 95 (a bound alert) every 40th. Returns expectations per station/window. */
async function publish(stream: LocalKinesisStream, n: number, offset = 0, poisonIndex = -1) {
  const sent: { station: string; value: number; seq: string; arrivalMs: number }[] = [];
  for (let i = offset; i < offset + n; i++) {
    const station = stations[i % stations.length];
    const value = i === poisonIndex ? 66.6 : i % 40 === 7 || i % 40 === 22 ? 95 : 20 + (i % 13) / 4;
    const envelope = encodeEnvelope(
      `weather/wa/seattle/${station}/temp/s-${station}`,
      JSON.stringify({ value, timestamp: Date.now() }),
      Date.now(),
    );
    const { sequenceNumber } = stream.put(station, Buffer.from(JSON.stringify(envelope)));
    sent.push({ station, value, seq: sequenceNumber, arrivalMs: Date.now() });
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 15));
  }
  return sent;
}

/**
 * Resolves once the window holding the last of `sent` has ended by the clock (windows close by time; `drained` then
 * waits for every ended window's final invoke).
 */
async function lastWindowEnded(sent: { arrivalMs: number }[]) {
  const windowMs = WINDOW_S * 1000;
  const endMs = (Math.floor(Math.max(...sent.map((s) => s.arrivalMs)) / windowMs) + 1) * windowMs;
  while (Date.now() < endMs) await new Promise((r) => setTimeout(r, endMs - Date.now()));
}

/** Resolves once every shard has taken in (acknowledged) every record put so far. */
async function caughtUp(stream: LocalKinesisStream, esm: EventSourceMappingEmulator, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const pending = () =>
    stream.shardIds.some((id) => stream.read(id, esm.checkpointOf(id).lastSequenceNumber, 1).length > 0);
  while (pending()) {
    if (Date.now() > deadline) throw new Error(`records still pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function expectExactAggregates(
  w: ReturnType<typeof world>,
  sent: { station: string; value: number; arrivalMs: number }[],
  dropped = new Set<number>(),
) {
  const expected = new Map<string, { count: number; sum: number }>();
  sent.forEach((s, i) => {
    if (dropped.has(i)) return;
    const key = `${s.station}|${Math.floor(s.arrivalMs / (WINDOW_S * 1000)) * WINDOW_S * 1000}`;
    const e = expected.get(key) ?? { count: 0, sum: 0 };
    e.count += 1;
    e.sum += s.value;
    expected.set(key, e);
  });
  const views = mergeParts(w.metrics.all()).filter((v) => v.metric === "temp");
  const got = new Map(
    views.map((v) => [`${v.deviceId}|${Date.parse(v.windowStart)}`, { count: v.count, sum: v.sum }]),
  );
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, e] of expected) {
    expect(got.get(key)!.count, key).toBe(e.count);
    expect(got.get(key)!.sum, key).toBeCloseTo(e.sum, 9);
  }
  // One escalation per (device, rule, window) that saw a value above the bound — never two.
  const alertWindows = new Set<string>();
  sent.forEach((s, i) => {
    if (!dropped.has(i) && s.value > 90)
      alertWindows.add(`${s.station}|${Math.floor(s.arrivalMs / (WINDOW_S * 1000)) * WINDOW_S * 1000}`);
  });
  const started = [...w.escalation.executions.values()].map(
    (a) => `${a.deviceId}|${Date.parse(a.windowStart)}`,
  );
  expect(started.sort()).toEqual([...alertWindows].sort());
}

describe("scoring under the emulator with injected faults", () => {
  it("throws on chosen batches before and after the handler's side effects: no aggregate lost or double counted, no escalation twice", async () => {
    const w = world();
    let calls = 0;
    const { stream, esm } = boot(w, (real) => async (event, context) => {
      calls += 1;
      if (calls % 5 === 2) throw new Error("crash before the handler ran");
      const result = await real(event, context);
      if (calls % 7 === 3) throw new Error("crash after the handler's writes and escalation starts");
      return result;
    });
    const sent = await publish(stream, 400);
    await lastWindowEnded(sent);
    await esm.drained(60_000);
    expect(fs.existsSync(path.join(w.dir, "dlq")) ? fs.readdirSync(path.join(w.dir, "dlq")) : []).toEqual([]);
    expectExactAggregates(w, sent);
    expect(w.escalation.executions.size).toBeGreaterThan(1);
    expect(calls).toBeGreaterThan(10); // the injected crashes did happen (every 5th and 7th call)
  });

  it("reports throttled escalation starts as item failures and retries only from there", async () => {
    const w = world();
    w.escalation.failNext = 2; // within the mapping's 2 retries
    const { stream, esm } = boot(w);
    const sent = await publish(stream, 200);
    await lastWindowEnded(sent);
    await esm.drained(60_000);
    expectExactAggregates(w, sent);
  });

  it("sends a poison record to the on-failure destination after its retries; the shard moves on", async () => {
    const w = world();
    const isPoison = (data: string) => {
      const envelope = JSON.parse(Buffer.from(data, "base64").toString("utf8")) as { payload: string };
      return Buffer.from(envelope.payload, "base64").toString("utf8").includes('"value":66.6');
    };
    const { stream, esm } = boot(w, (real) => async (event, context) => {
      const records = (event.Records as { kinesis: { data: string } }[]) ?? [];
      if (records.some((r) => isPoison(r.kinesis.data))) throw new Error("poison");
      return real(event, context);
    });
    const first = await publish(stream, 30, 0, 17);
    const poison = first[17].seq;
    const rest = await publish(stream, 90, 30);
    await lastWindowEnded(rest);
    await esm.drained(60_000);
    const dlq = fs.readdirSync(path.join(w.dir, "dlq"));
    expect(dlq).toHaveLength(1);
    const entry = JSON.parse(fs.readFileSync(path.join(w.dir, "dlq", dlq[0]), "utf8"));
    expect(entry.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: poison,
      endSequenceNumber: poison,
      batchSize: 1,
    });
    expectExactAggregates(w, [...first, ...rest], new Set([17]));
  });

  it("restarts mid-window without losing acknowledged records or counting them twice", async () => {
    const w = world();
    const a = boot(w);
    const part1 = await publish(a.stream, 120);
    await caughtUp(a.stream, a.esm);
    await a.stop(); // process ends mid-window: state lives only in the ESM checkpoint
    const b = boot(w);
    const part2 = await publish(b.stream, 120, 120);
    await lastWindowEnded(part2);
    await b.esm.drained(60_000);
    expectExactAggregates(w, [...part1, ...part2]);
  });
});
