import { describe, expect, it } from "vitest";
import { DetectorPool } from "../../src/scoring/detector-pool.ts";
import { rcfDetectorFactory } from "../../src/scoring/rcf-detector-factory.ts";
import { WindowScorer, type BatchSummary, type StreamRecord } from "../../src/scoring/window-scorer.ts";
import { simulatedDevices, toRegistryDevice } from "../../src/simulator/devices.ts";
import { createSimulation } from "../../src/simulator/simulation.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import { thresholdRuleSchema } from "../../src/thresholds/threshold-rule.ts";
import { mergeParts } from "../../src/window/stored-part.ts";
import {
  MemoryArchive,
  MemoryCheckpointStore,
  MemoryMetricsStore,
  MemoryThresholds,
  RecordMaker,
  RecordingEscalationStarter,
  testPreparer,
} from "./support.ts";

/**
 * The scorer runs a batch in three phases (prepare in order, detectors grouped by detector key, then thresholds,
 * alerts and window state in order). A batch of ONE record cannot be reordered, so feeding the records one per
 * batch is the record-by-record order; it must give exactly what whole batches give: the same scores, grades,
 * alerts, aggregates, checkpoints (forests, thresholder series, presence, stuck runs) and window state.
 */
const MIN = 60_000;
const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const SHARD = "shardId-000000000000";
const WINDOWS = 3;
const devices = simulatedDevices(12); // medical, weather, fan, canonical ×3: several detector keys, interleaved

function traffic() {
  const simulation = createSimulation({
    seed: 11,
    devices,
    anomalies: { kinds: ["spike", "drift", "stuck"], rate: 0.02 },
  });
  const maker = new RecordMaker();
  const windows: StreamRecord[][] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const records: StreamRecord[] = [];
    for (let k = 0; k < 600; k++) {
      const tMs = W0 + w * MIN + k * 100;
      const { message } = simulation.step(k % devices.length, tMs);
      if (message) records.push(maker.make(message.topic, message.payload, tMs + 40));
    }
    // A device stuck on one value: its own run, long enough for the stuck rule.
    for (let s = 0; s < 20; s++) {
      const tMs = W0 + w * MIN + 100 + s * 2_900;
      const value = w === 2 && s >= 4 ? 42 : 40 + ((s * 7) % 5) + w / 10;
      records.splice(
        s * 30 + 5,
        0,
        maker.make("dt/plant-z/pump-0999/telemetry", canonical(tMs, value), tMs + 40),
      );
    }
    windows.push(records);
  }
  return windows;
}

function canonical(tMs: number, value: number) {
  return { deviceId: "pump-0999", ts: new Date(tMs).toISOString(), metrics: { level: value } };
}

function setup(checkpoints = new MemoryCheckpointStore()) {
  const clock = { now: () => W0 + 5 * MIN };
  const metrics = new MemoryMetricsStore();
  const escalation = new RecordingEscalationStarter();
  const archive = new MemoryArchive();
  const registry = [
    ...devices.map(toRegistryDevice),
    { deviceId: "pump-0999", manufacturer: "acme", model: "tank" },
  ];
  const scorer = new WindowScorer({
    preparer: testPreparer(registry),
    detectors: new DetectorPool(
      rcfDetectorFactory({ forest: { numberOfTrees: 20, sampleSize: 64, outputAfter: 32 } }),
      checkpoints,
      clock,
    ),
    thresholds: new CachedThresholds(
      new MemoryThresholds([thresholdRuleSchema.parse({ scope: "global", bounds: { pulse: { max: 70 } } })]),
      clock,
    ),
    escalation,
    metrics,
    archive,
    checkpoints,
    clock,
    options: {
      windowMs: MIN,
      silenceWindows: 2,
      stateBudgetBytes: 6_000, // partial flushes too
      stuck: { warmupRuns: 5 },
    },
  });
  return { scorer, metrics, escalation, archive, checkpoints };
}

async function run(batchSize: number) {
  const { scorer, metrics, escalation, archive, checkpoints } = setup();
  const totals: Partial<Record<keyof BatchSummary, number>> = {};
  const add = (s: BatchSummary) => {
    for (const [k, v] of Object.entries(s) as [keyof BatchSummary, number][]) {
      if (k !== "stateBytes" && k !== "records" && k !== "checkpointMs") totals[k] = (totals[k] ?? 0) + v;
    }
  };
  const states: Record<string, string>[] = [];
  const windows = traffic();
  for (let w = 0; w < windows.length; w++) {
    const window = { startMs: W0 + w * MIN, endMs: W0 + (w + 1) * MIN };
    let state: Record<string, unknown> = {};
    for (let i = 0; i < windows[w].length; i += batchSize) {
      const r = await scorer.processBatch({
        shardId: SHARD,
        window,
        state,
        isFinalInvokeForWindow: false,
        isWindowTerminatedEarly: false,
        records: windows[w].slice(i, i + batchSize),
      });
      expect(r.failedSequenceNumber).toBeUndefined();
      add(r.summary);
      state = r.state;
    }
    states.push(state as Record<string, string>);
    const final = await scorer.processBatch({
      shardId: SHARD,
      window,
      state,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
      records: [],
    });
    add(final.summary);
  }
  return {
    scored: archive.records,
    alerts: [...escalation.executions.entries()],
    parts: [...metrics.items.entries()].sort(([a], [b]) => a.localeCompare(b)),
    checkpoints: [...checkpoints.objects.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    states,
    totals,
  };
}

describe("batch order (detectors grouped by key)", () => {
  it("gives exactly the record-by-record results on a multi-model batch with anomalies, bounds and a stuck run", async () => {
    const whole = await run(500);
    const oneByOne = await run(1);
    // The scenario exercises what it claims to.
    const rules = new Set(whole.alerts.map(([, a]) => a.rule.split(":")[0]));
    expect([...rules].sort()).toEqual(["anomaly", "bound", "stuck"]);
    expect(new Set(whole.scored.map((r) => r.detectorKey)).size).toBeGreaterThanOrEqual(5);
    expect(whole.totals.flushes).toBeGreaterThan(0);
    expect(whole.scored.some((r) => r.score > 0 && r.grade > 0)).toBe(true);

    expect(whole.scored).toEqual(oneByOne.scored);
    expect(whole.alerts).toEqual(oneByOne.alerts);
    expect(whole.parts).toEqual(oneByOne.parts);
    expect(whole.states).toEqual(oneByOne.states);
    expect(whole.checkpoints).toEqual(oneByOne.checkpoints);
    expect(whole.totals).toEqual(oneByOne.totals);
  }, 120_000);

  it("stops at the record whose model could not be loaded; the state holds exactly the records before it", async () => {
    // The tank's checkpoint read fails once: phase 2 marks its first record although other keys' later records
    // were scored; phase 3 stops there and the retry from it counts every record once.
    class FlakyCheckpoints extends MemoryCheckpointStore {
      failures = 1;
      override async get(key: string) {
        if (key.includes("acme%23tank") && this.failures-- > 0) throw new Error("S3 SlowDown");
        return super.get(key);
      }
    }
    const t = setup(new FlakyCheckpoints());
    const records = traffic()[0];
    const window = { startMs: W0, endMs: W0 + MIN };
    const tankAt = records.findIndex(
      (r) => JSON.parse(Buffer.from(r.data, "base64").toString()).topic === "dt/plant-z/pump-0999/telemetry",
    );
    expect(tankAt).toBeGreaterThan(0);
    const base = { shardId: SHARD, window, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false };
    const first = await t.scorer.processBatch({ ...base, state: {}, records });
    expect(first.failedSequenceNumber).toBe(records[tankAt].sequenceNumber);
    expect(first.summary.scored).toBe(tankAt);
    expect(t.archive.records.map((r) => r.sequenceNumber)).toEqual(
      records.slice(0, tankAt).map((r) => r.sequenceNumber),
    );
    const second = await t.scorer.processBatch({
      ...base,
      state: first.state,
      records: records.slice(tankAt),
      isFinalInvokeForWindow: true,
    });
    expect(second.failedSequenceNumber).toBeUndefined();
    // Every record counted once: the same counts (and sums) as the same window without the failure.
    const ref = setup();
    await ref.scorer.processBatch({ ...base, state: {}, records, isFinalInvokeForWindow: true });
    const counts = (parts: ReturnType<MemoryMetricsStore["all"]>) =>
      mergeParts(parts)
        .map((v) => `${v.deviceId}|${v.metric}|${v.count}|${v.sum}`)
        .sort();
    expect(counts(t.metrics.all())).toEqual(counts(ref.metrics.all()));
    expect(t.archive.records).toHaveLength(records.length);
  }, 60_000);
});
