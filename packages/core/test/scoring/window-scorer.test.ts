import { describe, expect, it } from "vitest";
import { alertSchema } from "../../src/alerts/alert.ts";
import { DetectorPool } from "../../src/scoring/detector-pool.ts";
import { EXECUTION_NAME_PATTERN, executionName } from "../../src/scoring/execution-name.ts";
import { scoredRecordSchema } from "../../src/scoring/scored-record.ts";
import { WindowScorer, type StreamRecord, type WindowBatch } from "../../src/scoring/window-scorer.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import { thresholdRuleSchema } from "../../src/thresholds/threshold-rule.ts";
import { simulatedDevices, toRegistryDevice } from "../../src/simulator/devices.ts";
import { createSimulation } from "../../src/simulator/simulation.ts";
import { mergeParts } from "../../src/window/stored-part.ts";
import {
  MemoryArchive,
  MemoryCheckpointStore,
  MemoryMetricsStore,
  MemoryThresholds,
  RecordMaker,
  RecordingEscalationStarter,
  memoryScoringPorts,
  testPreparer,
  weatherRecord,
  zScoreFactory,
} from "./support.ts";

const MIN = 60_000;
const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const SHARD = "shardId-000000000000";
const stations = ["qwbKAMlbZW", "aXbZ01", "st-3"];
const devices = [
  ...stations.map((deviceId) => ({
    deviceId,
    manufacturer: "davis",
    model: "vantage-pro2",
    site: "seattle",
  })),
  { deviceId: "fan-1", manufacturer: "acme", model: "f100" },
];

function setup(
  options: {
    budget?: number;
    rules?: ReturnType<typeof thresholdRuleSchema.parse>[];
    checkpoints?: MemoryCheckpointStore;
  } = {},
) {
  const now = { t: W0 };
  const clock = { now: () => now.t };
  const ports = memoryScoringPorts(options.rules, options.checkpoints);
  const make = () =>
    new WindowScorer({
      preparer: testPreparer(devices),
      detectors: new DetectorPool(zScoreFactory, ports.checkpoints, clock),
      thresholds: new CachedThresholds(ports.thresholds, clock, { ttlMs: 0 }),
      escalation: ports.escalation,
      metrics: ports.metrics,
      archive: ports.archive,
      checkpoints: ports.checkpoints,
      clock,
      options: { windowMs: MIN, stateBudgetBytes: options.budget, silenceWindows: 2 },
    });
  return { ...ports, now, make, scorer: make() };
}

function batch(
  windowStart: number,
  records: StreamRecord[],
  state: Record<string, unknown> | undefined,
  final = false,
): WindowBatch {
  return {
    shardId: SHARD,
    window: { startMs: windowStart, endMs: windowStart + MIN },
    state,
    isFinalInvokeForWindow: final,
    isWindowTerminatedEarly: false,
    records,
  };
}

/** Normal weather traffic: every station reports temp each second of the window. */
function traffic(
  maker: RecordMaker,
  windowStart: number,
  seconds: number,
  value = (s: number, i: number) => 20 + ((s * 7 + i * 3) % 11) / 10,
) {
  const records: StreamRecord[] = [];
  for (let s = 0; s < seconds; s++) {
    stations.forEach((st, i) =>
      records.push(weatherRecord(maker, st, "temp", value(s, i), windowStart + s * 1000 + 10 * i)),
    );
  }
  return records;
}

/** Runs a window through the scorer in batches of `size`, then the final invoke. */
async function runWindow(scorer: WindowScorer, windowStart: number, records: StreamRecord[], size = 25) {
  let state: Record<string, unknown> = {};
  for (let i = 0; i < records.length; i += size) {
    const r = await scorer.processBatch(batch(windowStart, records.slice(i, i + size), state));
    expect(r.failedSequenceNumber).toBeUndefined();
    state = r.state;
  }
  return scorer.processBatch(batch(windowStart, [], state, true));
}

describe("window scorer", () => {
  it("computes per-station, per-sensor window aggregates like the seed SQL (COUNT, SUM, AVG) and archives every record", async () => {
    const t = setup();
    const maker = new RecordMaker();
    const records = traffic(maker, W0, 50);
    const final = await runWindow(t.scorer, W0, records, 7);
    expect(final.state).toEqual({});
    const views = mergeParts(t.metrics.all()).filter((v) => v.metric === "temp");
    expect(views).toHaveLength(3);
    stations.forEach((st, i) => {
      const values = Array.from({ length: 50 }, (_, s) => 20 + ((s * 7 + i * 3) % 11) / 10);
      const view = views.find((v) => v.deviceId === st)!;
      expect(view.count).toBe(50);
      expect(view.sum).toBeCloseTo(
        values.reduce((a, b) => a + b, 0),
        9,
      );
      expect(view.avg).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 50, 9);
      expect(view.min).toBe(Math.min(...values));
      expect(view.max).toBe(Math.max(...values));
      expect(view.windowStart).toBe(new Date(W0).toISOString());
      expect(view.windowEnd).toBe(new Date(W0 + MIN).toISOString());
    });
    expect(t.archive.records).toHaveLength(150);
    for (const r of t.archive.records.slice(0, 3)) scoredRecordSchema.parse(r);
    expect(new Set(t.archive.records.map((r) => r.detectorKey))).toEqual(
      new Set(["davis#vantage-pro2|temp,temp_smoothed"]),
    );
  });

  it("starts one escalation per spike at once, with a deterministic name, even when the batch is retried", async () => {
    const t = setup();
    const maker = new RecordMaker();
    const warm = traffic(maker, W0, 40);
    await runWindow(t.scorer, W0, warm);
    const W1 = W0 + MIN;
    const records = traffic(maker, W1, 10, (s, i) => (s === 5 && i === 1 ? 95 : 20 + ((s + i) % 5) / 10));
    const first = await t.scorer.processBatch(batch(W1, records, {}));
    expect(t.escalation.executions.size).toBe(1);
    const [name, alert] = [...t.escalation.executions][0];
    expect(alertSchema.parse(alert)).toMatchObject({
      kind: "anomaly",
      rule: "anomaly",
      deviceId: stations[1],
      windowStart: new Date(W1).toISOString(),
    });
    expect(name).toBe(executionName(stations[1], "anomaly", W1));
    expect(name).toMatch(EXECUTION_NAME_PATTERN);
    expect(alert.attribution[0]).toMatchObject({ metric: expect.stringMatching(/^temp/), direction: "HIGH" });
    // Lambda retries the same batch with the same input state (e.g. the invocation timed out after the start call).
    const again = await setup()
      .make()
      .processBatch(batch(W1, records, {})); // a second container, cold
    expect(again.failedSequenceNumber).toBeUndefined();
    const retry = await t.make().processBatch(batch(W1, records, {}));
    expect(retry.state).toEqual(first.state);
    expect(t.escalation.executions.size).toBe(1);
  });

  it("raises bound alerts from the most specific threshold scope", async () => {
    const t = setup({
      rules: [
        thresholdRuleSchema.parse({ scope: "global", bounds: { temp: { max: 100 } } }),
        thresholdRuleSchema.parse({ scope: `device#${stations[2]}`, bounds: { temp: { max: 20.3 } } }),
      ],
    });
    const maker = new RecordMaker();
    await runWindow(t.scorer, W0, traffic(maker, W0, 5));
    const rules = [...t.escalation.executions.values()].map((a) => [a.deviceId, a.rule, a.kind]);
    expect(rules).toEqual([[stations[2], "bound:temp:high", "threshold"]]);
    const view = mergeParts(await t.metrics.listParts(stations[2])).find((v) => v.metric === "temp")!;
    expect(view.anomalies).toBeGreaterThan(0);
    expect(
      mergeParts(await t.metrics.listParts(stations[0])).find((v) => v.metric === "temp")!.anomalies,
    ).toBe(0);
  });

  it("skips bad records without blocking the shard", async () => {
    const t = setup();
    const maker = new RecordMaker();
    const records = [
      weatherRecord(maker, stations[0], "temp", 21, W0),
      maker.make("dt/site/fan-1/telemetry", "{not json", W0 + 1),
      maker.make("weather/wa/seattle/unknown-station/temp/s1", { value: 1, timestamp: W0 }, W0 + 2),
      {
        ...weatherRecord(maker, stations[0], "temp", 22, W0 + 3),
        data: Buffer.from("garbage").toString("base64"),
      },
      weatherRecord(maker, stations[0], "temp", 23, W0 + 4),
    ];
    const r = await t.scorer.processBatch(batch(W0, records, {}, true));
    expect(r.failedSequenceNumber).toBeUndefined();
    expect(r.summary).toMatchObject({ records: 5, scored: 2, rejected: 3 });
    expect(mergeParts(t.metrics.all()).find((v) => v.metric === "temp")).toMatchObject({ count: 2, sum: 44 });
  });

  it("reports a retryable failure as the first failed record and counts every record once after the retry", async () => {
    const t = setup({
      rules: [thresholdRuleSchema.parse({ scope: "global", bounds: { temp: { max: 50 } } })],
    });
    const maker = new RecordMaker();
    const records = traffic(maker, W0, 10, (s, i) => (s === 4 && i === 0 ? 60 : 20 + i));
    t.escalation.failNext = 1; // the bound alert's StartExecution is throttled once
    const first = await t.scorer.processBatch(batch(W0, records, {}));
    const failedAt = records.findIndex((r) => r.sequenceNumber === first.failedSequenceNumber);
    expect(failedAt).toBe(12);
    expect(first.summary.scored).toBe(12);
    // Lambda checkpoints before the failed record and retries from it with the returned state.
    const second = await t.scorer.processBatch(batch(W0, records.slice(failedAt), first.state));
    expect(second.failedSequenceNumber).toBeUndefined();
    await t.scorer.processBatch(batch(W0, [], second.state, true));
    const views = mergeParts(t.metrics.all()).filter((v) => v.metric === "temp");
    expect(views.map((v) => v.count)).toEqual([10, 10, 10]);
    expect(t.escalation.executions.size).toBe(1);
  });

  it("flushes partial aggregates near the state cap and merges them exactly; a failed flush leaves the state intact", async () => {
    const many = Array.from({ length: 40 }, (_, i) => `st-${i}`);
    devices.push(...many.map((deviceId) => ({ deviceId, manufacturer: "davis", model: "vantage-pro2" })));
    const t = setup({ budget: 2_000 });
    const maker = new RecordMaker();
    const records: StreamRecord[] = [];
    for (let s = 0; s < 3; s++)
      many.forEach((st, i) => records.push(weatherRecord(maker, st, "hum", 40 + i + s, W0 + s * 1000)));
    t.metrics.failNext = 1;
    const failed = await t.scorer.processBatch(batch(W0, records, {}));
    expect(failed.failedSequenceNumber).toBeDefined();
    const idx = records.findIndex((r) => r.sequenceNumber === failed.failedSequenceNumber);
    let state = failed.state;
    let rest = records.slice(idx);
    for (let guard = 0; rest.length > 0 && guard < 10; guard++) {
      const r = await t.scorer.processBatch(batch(W0, rest, state));
      state = r.state;
      rest = r.failedSequenceNumber
        ? rest.slice(rest.findIndex((x) => x.sequenceNumber === r.failedSequenceNumber))
        : [];
    }
    const final = await t.scorer.processBatch(batch(W0, [], state, true));
    expect(final.summary.stateBytes).toBeLessThan(2_000);
    const views = mergeParts(t.metrics.all()).filter((v) => v.metric === "hum");
    expect(views).toHaveLength(40);
    for (const v of views) {
      const i = Number(v.deviceId.slice(3));
      expect(v).toMatchObject({ count: 3, sum: 3 * (40 + i) + 3, min: 40 + i, max: 42 + i });
    }
    expect(new Set(t.metrics.all().map((p) => p.segment)).size).toBeGreaterThan(1);
    devices.splice(devices.length - many.length);
  });

  it("checkpoints models on the final invoke and restores them on a cold start", async () => {
    const checkpoints = new MemoryCheckpointStore();
    const t = setup({ checkpoints });
    const maker = new RecordMaker();
    const final = await runWindow(t.scorer, W0, traffic(maker, W0, 30));
    expect(final.summary.checkpointsWritten).toBe(1);
    const keys = [...checkpoints.objects.keys()].filter((k) => k.startsWith("models/"));
    expect(keys).toEqual([
      `models/${SHARD}/${encodeURIComponent("davis#vantage-pro2|temp,temp_smoothed")}.rcf`,
    ]);
    // A new container: the restored model already knows "normal", so a spike in its first batch is an anomaly.
    const cold = setup({ checkpoints });
    const fresh = setup();
    const W1 = W0 + MIN;
    await cold.scorer.processBatch(batch(W1, [weatherRecord(maker, stations[0], "temp", 500, W1)], {}));
    await fresh.scorer.processBatch(batch(W1, [weatherRecord(maker, stations[0], "temp", 500, W1)], {}));
    expect([...cold.escalation.executions.values()].map((a) => a.rule)).toEqual(["anomaly"]);
    expect(fresh.escalation.executions.size).toBe(0); // without the checkpoint the model would still be warming up
  });

  it("writes a window's aggregates and checkpoints together: either failing fails the final invoke, its retry completes both", async () => {
    class FlakyCheckpoints extends MemoryCheckpointStore {
      failNext = 0;
      override async put(key: string, bytes: Uint8Array) {
        if (this.failNext > 0) {
          this.failNext -= 1;
          throw Object.assign(new Error("slow down"), { name: "SlowDown" });
        }
        await super.put(key, bytes);
      }
    }
    const models = (c: MemoryCheckpointStore) => [...c.objects.keys()].filter((k) => k.startsWith("models/"));
    for (const failing of ["aggregates", "checkpoint"] as const) {
      const checkpoints = new FlakyCheckpoints();
      const t = setup({ checkpoints });
      const maker = new RecordMaker();
      const first = await t.scorer.processBatch(batch(W0, traffic(maker, W0, 30), {}));
      expect(first.failedSequenceNumber).toBeUndefined();
      if (failing === "aggregates") t.metrics.failNext = 1;
      else checkpoints.failNext = 1;
      await expect(t.scorer.processBatch(batch(W0, [], first.state, true))).rejects.toThrow();
      // The write that did not fail may have landed: both are idempotent, so the retry (same state) rewrites it.
      const retry = await t.scorer.processBatch(batch(W0, [], first.state, true));
      expect(retry.summary.partsWritten).toBeGreaterThan(0);
      expect(retry.summary.checkpointsWritten).toBe(failing === "checkpoint" ? 1 : 0);
      expect(models(checkpoints)).toHaveLength(1);
      const views = mergeParts(t.metrics.all()).filter(
        (v) => v.deviceId === stations[0] && v.metric === "temp",
      );
      expect(views).toEqual([expect.objectContaining({ count: 30 })]);
    }
  });

  it("raises a silence alert once for a device that went quiet for N windows", async () => {
    const t = setup();
    const maker = new RecordMaker();
    await runWindow(t.scorer, W0, [
      ...traffic(maker, W0, 3),
      weatherRecord(maker, stations[0], "temp", 20, W0 + 30_000),
    ]);
    // Only stations 1 and 2 report afterwards.
    const quiet = (w: number) => [
      weatherRecord(maker, stations[1], "temp", 20, w),
      weatherRecord(maker, stations[2], "temp", 20, w),
    ];
    // Its own window closes with it quiet for 30 s: not yet (no whole quiet window).
    expect(t.escalation.executions.size).toBe(0);
    // silenceWindows 2: its silence spans W0 (after its last reading) and the whole window W0 + 1 min.
    const r = await runWindow(t.scorer, W0 + MIN, quiet(W0 + MIN));
    expect(r.summary.silenced).toBe(1);
    const silence = [...t.escalation.executions.values()];
    expect(silence).toMatchObject([
      { kind: "silence", rule: "silence", deviceId: stations[0], windowStart: new Date(W0).toISOString() },
    ]);
    // A repeated final invoke and later windows do not raise it again.
    await t.make().processBatch(batch(W0 + MIN, [], {}, true));
    await runWindow(t.scorer, W0 + 2 * MIN, quiet(W0 + 2 * MIN));
    await runWindow(t.scorer, W0 + 3 * MIN, quiet(W0 + 3 * MIN));
    expect(t.escalation.executions.size).toBe(1);
  });
});

describe("stuck-sensor rule", () => {
  /** Station 0 reports a varying temperature for `n` seconds (enough changes to know the series). */
  const varied = (maker: RecordMaker, start: number, n = 80) =>
    Array.from({ length: n }, (_, s) =>
      weatherRecord(maker, stations[0], "temp", 20 + ((s * 7) % 11) / 10 + s / 1000, start + s * 500),
    );
  const flat = (maker: RecordMaker, start: number, n: number, value = 20.55) =>
    Array.from({ length: n }, (_, s) => weatherRecord(maker, stations[0], "temp", value, start + s * 500));
  const stuckAlerts = (t: ReturnType<typeof setup>) =>
    [...t.escalation.executions.entries()].filter(([, a]) => a.rule.startsWith("stuck:"));

  /** These runs are judged at N = 10 (a global `stuckReadings`); the default N is 5. */
  const tenReadings = () => ({ rules: [thresholdRuleSchema.parse({ scope: "global", stuckReadings: 10 })] });

  it("raises stuck:<metric> once per run, counts retried batches once and keeps the run across windows and containers", async () => {
    const t = setup(tenReadings());
    const maker = new RecordMaker();
    await runWindow(t.scorer, W0, varied(maker, W0));
    const W1 = W0 + MIN;
    const first8 = flat(maker, W1, 8);
    const a = await t.scorer.processBatch(batch(W1, first8, {}));
    // Lambda retries the batch (e.g. the invocation timed out): the 8 readings must not count again.
    const retried = await t.scorer.processBatch(batch(W1, first8, {}));
    expect(retried.summary.scored).toBe(8);
    expect(stuckAlerts(t)).toHaveLength(0);
    const next2 = flat(maker, W1 + 4_000, 2);
    const b = await t.scorer.processBatch(batch(W1, next2, a.state));
    expect(b.summary.stuck).toBe(2);
    const alerts = stuckAlerts(t);
    expect(alerts.map(([, x]) => x.rule).sort()).toEqual(["stuck:temp", "stuck:temp_smoothed"]);
    const [name, alert] = alerts.find(([, x]) => x.rule === "stuck:temp")!;
    expect(alertSchema.parse(alert)).toMatchObject({ kind: "threshold", deviceId: stations[0] });
    expect(alert.message).toContain("for 10 readings");
    expect(name).toBe(executionName(stations[0], "stuck:temp", W1));
    expect(name).toMatch(EXECUTION_NAME_PATTERN);
    const raising = t.archive.records.filter((r) => r.rules.includes("stuck:temp"));
    expect(raising.map((r) => r.sequenceNumber)).toEqual([next2[1].sequenceNumber]);
    // The same batch again, the rest of the window, a new container after the checkpoint: still one alert each.
    await t.scorer.processBatch(batch(W1, next2, a.state));
    await t.scorer.processBatch(batch(W1, flat(maker, W1 + 5_000, 20), b.state, true));
    const cold = t.make();
    await runWindow(cold, W1 + MIN, flat(maker, W1 + MIN, 30));
    expect(stuckAlerts(t)).toHaveLength(2);
    const view = mergeParts(await t.metrics.listParts(stations[0])).find(
      (v) => v.metric === "temp" && v.windowStart === new Date(W1 + MIN).toISOString(),
    )!;
    expect(view.anomalies).toBe(30); // every reading of a stuck run counts as anomalous in the aggregates
    // A new run after a change is a new alert.
    await runWindow(cold, W1 + 2 * MIN, [
      ...varied(maker, W1 + 2 * MIN, 3),
      ...flat(maker, W1 + 2 * MIN + 2_000, 12, 3),
    ]);
    expect(stuckAlerts(t)).toHaveLength(4);
  });

  it("starts the escalation once when the start fails and the record is retried", async () => {
    const t = setup(tenReadings());
    const maker = new RecordMaker();
    await runWindow(t.scorer, W0, varied(maker, W0));
    const W1 = W0 + MIN;
    const records = flat(maker, W1, 12);
    t.escalation.failNext = 1;
    const first = await t.scorer.processBatch(batch(W1, records, {}));
    expect(first.failedSequenceNumber).toBe(records[9].sequenceNumber);
    const second = await t.scorer.processBatch(batch(W1, records.slice(9), first.state, true));
    expect(second.failedSequenceNumber).toBeUndefined();
    const alerts = stuckAlerts(t);
    expect(alerts).toHaveLength(2);
    for (const [, a] of alerts) expect(a.message).toContain("for 10 readings");
    const view = mergeParts(t.metrics.all()).find(
      (v) => v.metric === "temp" && v.windowStart === new Date(W1).toISOString(),
    )!;
    expect(view.count).toBe(12);
  });

  it("takes stuckReadings from the most specific scope, per metric, and 0 disables it", async () => {
    const t = setup({
      rules: [
        thresholdRuleSchema.parse({ scope: "global", stuckReadings: 100 }),
        thresholdRuleSchema.parse({ scope: "model#davis#vantage-pro2", stuckReadings: { "*": 0, temp: 5 } }),
        thresholdRuleSchema.parse({ scope: `device#${stations[1]}`, stuckReadings: 0 }),
      ],
    });
    const maker = new RecordMaker();
    const W1 = W0 + MIN;
    const both = (start: number, n: number, value?: number) =>
      [0, 1].flatMap((i) =>
        Array.from({ length: n }, (_, s) =>
          weatherRecord(
            maker,
            stations[i],
            "temp",
            value ?? 20 + ((s * 7) % 11) / 10 + s / 1000,
            start + s * 500 + i,
          ),
        ),
      );
    await runWindow(t.scorer, W0, both(W0, 80));
    await runWindow(t.scorer, W1, both(W1, 8, 17));
    expect(stuckAlerts(t).map(([, a]) => [a.deviceId, a.rule])).toEqual([[stations[0], "stuck:temp"]]);
  });
});

describe("stuck-sensor rule on simulated fans", () => {
  it("does not flag a fan's whole-Hz FREQ and its RPM at the default, though they repeat 10+ times in a row", async () => {
    const fans = simulatedDevices(4, { types: ["fan"] });
    for (const seed of [1, 7]) {
      const checkpoints = new MemoryCheckpointStore();
      const escalation = new RecordingEscalationStarter();
      const archive = new MemoryArchive();
      const clock = { now: () => W0 };
      const scorer = new WindowScorer({
        preparer: testPreparer(fans.map(toRegistryDevice)),
        detectors: new DetectorPool(zScoreFactory, checkpoints, clock),
        thresholds: new CachedThresholds(new MemoryThresholds([]), clock),
        escalation,
        metrics: new MemoryMetricsStore(),
        archive,
        checkpoints,
        clock,
        options: { windowMs: MIN, silenceWindows: 0 },
      });
      const simulation = createSimulation({ seed, devices: fans, anomalies: { kinds: ["stuck"], rate: 0 } });
      const maker = new RecordMaker();
      const longest = new Map<string, { v: number; n: number; max: number }>();
      let windowStart = W0;
      let records: StreamRecord[] = [];
      for (let k = 0; k < fans.length * 3_000; k++) {
        const tMs = W0 + k * 250; // each fan once a second
        if (tMs >= windowStart + MIN) {
          await runWindow(scorer, windowStart, records, 100);
          records = [];
          windowStart += MIN;
        }
        const { message } = simulation.step(k % fans.length, tMs);
        if (!message) continue;
        records.push(maker.make(message.topic, message.payload, tMs + 50));
        const freq = (JSON.parse(message.payload) as { FREQ: number }).FREQ;
        const run = longest.get(message.deviceId) ?? { v: NaN, n: 0, max: 0 };
        run.n = run.v === freq ? run.n + 1 : 1;
        run.v = freq;
        run.max = Math.max(run.max, run.n);
        longest.set(message.deviceId, run);
      }
      await runWindow(scorer, windowStart, records, 100);
      expect(archive.records.length).toBe(fans.length * 3_000);
      // The naive rule (10 equal readings) would have fired on every fan.
      expect(Math.min(...[...longest.values()].map((r) => r.max))).toBeGreaterThanOrEqual(10);
      expect([...escalation.executions.values()].filter((a) => a.rule.startsWith("stuck:"))).toEqual([]);
    }
  }, 60_000);
});
