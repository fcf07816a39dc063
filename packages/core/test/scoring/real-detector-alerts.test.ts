/**
 * Issue 8 through the scoring path with the REAL detector (`rcfDetectorFactory()`, the scoring defaults) on
 * fleet-shaped data: several devices of one model, each at its own level and noise, two metrics of different
 * scales, slow wander plus measurement noise (as the simulator's metric processes). Fixed seeds; no time waits.
 */
import { describe, expect, it } from "vitest";
import { DetectorPool } from "../../src/scoring/detector-pool.ts";
import { rcfDetectorFactory } from "../../src/scoring/rcf-detector-factory.ts";
import { WindowScorer, type StreamRecord } from "../../src/scoring/window-scorer.ts";
import { createPrng } from "../../src/simulator/prng.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import { mergeParts } from "../../src/window/stored-part.ts";
import { memoryScoringPorts, RecordMaker, testPreparer } from "./support.ts";

const MIN = 60_000;
const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const SHARD = "shardId-000000000000";
/** Four pumps of one model at their own levels (temperature °C, pressure bar). */
const PUMPS = [
  { deviceId: "p-1", temperature: 41, pressure: 3.2 },
  { deviceId: "p-2", temperature: 47, pressure: 4.1 },
  { deviceId: "p-3", temperature: 55, pressure: 2.6 },
  { deviceId: "p-4", temperature: 63, pressure: 5.0 },
];
/** Per metric: wander σ and correlation time (s), measurement noise σ; the anomaly unit σ = √(wander² + noise²). */
const MODEL = {
  temperature: { wander: 0.8, tau: 600, noise: 0.2 },
  pressure: { wander: 0.15, tau: 120, noise: 0.05 },
} as const;
type Metric = keyof typeof MODEL;
const sigma = (m: Metric) => Math.hypot(MODEL[m].wander, MODEL[m].noise);

/** Healthy readings of every pump, one a second: level + Ornstein–Uhlenbeck wander + white noise. */
function fleet(seed: number) {
  const prng = createPrng(seed);
  const wander = PUMPS.map(() => ({ temperature: 0, pressure: 0 }));
  return (index: number): Record<Metric, number> => {
    const out = {} as Record<Metric, number>;
    for (const m of Object.keys(MODEL) as Metric[]) {
      const { wander: w, tau, noise } = MODEL[m];
      const phi = Math.exp(-1 / tau);
      wander[index][m] = wander[index][m] * phi + w * Math.sqrt(1 - phi * phi) * prng.normal();
      out[m] = PUMPS[index][m] + wander[index][m] + noise * prng.normal();
    }
    return out;
  };
}

function setup() {
  const now = { t: W0 };
  const clock = { now: () => now.t };
  const ports = memoryScoringPorts();
  const scorer = new WindowScorer({
    preparer: testPreparer(
      PUMPS.map((p) => ({ deviceId: p.deviceId, manufacturer: "acme", model: "tp", site: "s1" })),
    ),
    detectors: new DetectorPool(rcfDetectorFactory(), ports.checkpoints, clock),
    thresholds: new CachedThresholds(ports.thresholds, clock, { ttlMs: 0 }),
    escalation: ports.escalation,
    metrics: ports.metrics,
    archive: ports.archive,
    checkpoints: ports.checkpoints,
    clock,
    options: { windowMs: MIN, silenceWindows: 0 },
  });
  return { ...ports, now, scorer, maker: new RecordMaker() };
}
type Setup = ReturnType<typeof setup>;

function reading(t: Setup, deviceId: string, tMs: number, metrics: Record<Metric, number>): StreamRecord {
  return t.maker.make(
    `dt/s1/${deviceId}/telemetry`,
    { deviceId, ts: new Date(tMs).toISOString(), metrics },
    tMs + 40,
  );
}

/** One window: its records in batches of `size`, then the final invoke. */
async function runWindow(t: Setup, windowStart: number, records: StreamRecord[], size = 100) {
  t.now.t = windowStart + MIN;
  let state: Record<string, unknown> = {};
  const batch = (records: StreamRecord[], final: boolean) => ({
    shardId: SHARD,
    window: { startMs: windowStart, endMs: windowStart + MIN },
    state,
    isFinalInvokeForWindow: final,
    isWindowTerminatedEarly: false,
    records,
  });
  for (let i = 0; i < records.length; i += size) {
    const r = await t.scorer.processBatch(batch(records.slice(i, i + size), false));
    expect(r.failedSequenceNumber).toBeUndefined();
    state = r.state;
  }
  await t.scorer.processBatch(batch([], true));
}

/**
 * Every pump reports once a second for the window; `edit(second, pump, healthy)` may change a reading
 * (default: healthy).
 */
function fleetWindow(
  t: Setup,
  next: ReturnType<typeof fleet>,
  windowStart: number,
  edit: (s: number, pump: number, v: Record<Metric, number>) => Record<Metric, number> = (_s, _p, v) => v,
) {
  const records: StreamRecord[] = [];
  for (let s = 0; s < 60; s++)
    for (let p = 0; p < PUMPS.length; p++)
      records.push(reading(t, PUMPS[p].deviceId, windowStart + s * 1000, edit(s, p, next(p))));
  return records;
}

function anomaliesOf(t: Setup, deviceId: string, metric: Metric, windowStart: number) {
  return mergeParts(t.metrics.all()).find(
    (v) =>
      v.deviceId === deviceId && v.metric === metric && v.windowStart === new Date(windowStart).toISOString(),
  )?.anomalies;
}

/** Warm-up windows: the model's forest (256 points), its grading (100 scores) and each pump's own statistics. */
const WARM = 8;

describe("anomalies through the scoring path with the real detector, fleet-shaped data", () => {
  it("warm-up yields no alert: a fresh model raises nothing in its first minutes, even on large spikes", async () => {
    const t = setup();
    const next = fleet(3);
    for (let w = 0; w < 2; w++) {
      const ws = W0 + w * MIN;
      await runWindow(
        t,
        ws,
        fleetWindow(t, next, ws, (s, p, v) => (s === 30 ? { ...v, temperature: v.temperature + 40 } : v)),
      );
    }
    expect(t.archive.records).toHaveLength(2 * 60 * PUMPS.length);
    expect(t.archive.records.filter((r) => r.anomaly)).toEqual([]);
    expect(t.escalation.executions.size).toBe(0);
  });

  for (const seed of [5, 6]) {
    it(`three separated 6σ spikes of one pump in one window count three anomalies; one alert (seed ${seed})`, async () => {
      const t = setup();
      const next = fleet(seed);
      for (let w = 0; w < WARM; w++) await runWindow(t, W0 + w * MIN, fleetWindow(t, next, W0 + w * MIN));
      expect(t.escalation.executions.size).toBe(0); // a healthy fleet raises nothing
      const WS = W0 + WARM * MIN;
      const spikes = new Map([
        [10, 6 * sigma("temperature")],
        [30, -6 * sigma("temperature")],
        [50, 6 * sigma("temperature")],
      ]);
      await runWindow(
        t,
        WS,
        fleetWindow(t, next, WS, (s, p, v) =>
          p === 2 && spikes.has(s) ? { ...v, temperature: v.temperature + spikes.get(s)! } : v,
        ),
      );
      const flagged = t.archive.records.filter((r) => r.anomaly && Date.parse(r.ts) >= WS);
      expect(flagged.map((r) => [r.deviceId, (Date.parse(r.ts) - WS) / 1000])).toEqual([
        ["p-3", 10],
        ["p-3", 30],
        ["p-3", 50],
      ]);
      expect(anomaliesOf(t, "p-3", "temperature", WS)).toBe(3);
      const alerts = [...t.escalation.executions.values()];
      expect(alerts.map((a) => [a.deviceId, a.rule])).toEqual([["p-3", "anomaly"]]);
      expect(alerts[0].message).toMatch(
        /^anomaly on p-3: temperature [\d.]+ HIGH \(expected [\d.]+\.\.[\d.]+\)/,
      );
    });
  }

  it("a spike 50 readings after a false positive still counts, inside the open episode (no second alert)", async () => {
    const t = setup();
    const next = fleet(7);
    for (let w = 0; w < WARM; w++) await runWindow(t, W0 + w * MIN, fleetWindow(t, next, W0 + w * MIN));
    // Pump 2's pressure gets outliers of growing size, one every 20 s, until one opens an episode: the stand-in for a
    // false positive. Then, 50 of its readings later, a real 8σ temperature spike.
    const WS = W0 + WARM * MIN;
    const spikeAt = new Map<number, number>();
    let opened = -1;
    let k = 0;
    const records: StreamRecord[] = [];
    const pending = () => records.splice(0, records.length);
    for (let s = 0; s < 240 && (opened < 0 || s <= opened + 50); s++) {
      const tMs = WS + s * 1000;
      for (let p = 0; p < PUMPS.length; p++) {
        let v = next(p);
        if (p === 1 && opened < 0 && s % 20 === 10) {
          k++;
          v = { ...v, pressure: v.pressure + (3 + 0.5 * k) * sigma("pressure") };
        }
        if (p === 1 && opened >= 0 && s === opened + 50) {
          v = { ...v, temperature: v.temperature + 8 * sigma("temperature") };
          spikeAt.set(p, tMs);
        }
        records.push(reading(t, PUMPS[p].deviceId, tMs, v));
      }
      // One batch per second, so the outliers stop once one opened an episode.
      const windowStart = tMs - ((tMs - W0) % MIN);
      t.now.t = tMs + 1000;
      const r = await t.scorer.processBatch({
        shardId: SHARD,
        window: { startMs: windowStart, endMs: windowStart + MIN },
        state: {},
        isFinalInvokeForWindow: false,
        isWindowTerminatedEarly: false,
        records: pending(),
      });
      expect(r.failedSequenceNumber).toBeUndefined();
      if (opened < 0 && [...t.escalation.executions.values()].some((a) => a.deviceId === "p-2")) opened = s;
    }
    expect(opened).toBeGreaterThanOrEqual(0);
    const spike = t.archive.records.find((r) => r.deviceId === "p-2" && Date.parse(r.ts) === spikeAt.get(1));
    expect(spike?.anomaly).toBe(true);
    expect(spike?.grade).toBeGreaterThan(0);
    // Suppression only decides whether a NEW alert starts: the spike folds into the open one.
    expect([...t.escalation.executions.values()].filter((a) => a.deviceId === "p-2")).toHaveLength(1);
  });
});
