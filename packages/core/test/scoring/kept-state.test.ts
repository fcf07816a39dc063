import { describe, expect, it } from "vitest";
import { DetectorPool } from "../../src/scoring/detector-pool.ts";
import { rcfDetectorFactory } from "../../src/scoring/rcf-detector-factory.ts";
import { WindowScorer, type StreamRecord } from "../../src/scoring/window-scorer.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
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
 * The scorer keeps the window accumulator and reading tail behind the state it returned and takes them back when
 * the shard's next batch brings that state again, instead of parsing it (issue 13). It must give exactly what
 * parsing gives: a state with one extra key is not "the same state", so it is parsed, and both runs must agree.
 */
const MIN = 60_000;
const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const SHARD = "shardId-000000000000";
const DEVICES = 8;

function traffic(): StreamRecord[][] {
  const maker = new RecordMaker();
  const windows: StreamRecord[][] = [];
  for (let w = 0; w < 2; w++) {
    const records: StreamRecord[] = [];
    for (let k = 0; k < 400; k++) {
      const tMs = W0 + w * MIN + k * 100;
      const d = k % DEVICES;
      // −0 and negative values: `min`/`max` may hold −0, which the state's text gives back as 0.
      const level = d === 0 ? 0 : Math.sin(k / 7 + d) * 10 + (k % 5);
      const payload = {
        deviceId: `pump-${d}`,
        ts: new Date(tMs).toISOString(),
        metrics: { level, flow: 3 + Math.cos(k / 11 + d) },
      };
      // (JSON.stringify writes −0 as 0: the payload text says −0 itself.)
      const text = JSON.stringify(payload).replace('"level":0', '"level":-0');
      records.push(maker.make(`dt/plant-a/pump-${d}/telemetry`, text, tMs + 40));
    }
    windows.push(records);
  }
  return windows;
}

function setup(archive = new MemoryArchive()) {
  const clock = { now: () => W0 + 5 * MIN };
  const checkpoints = new MemoryCheckpointStore();
  const metrics = new MemoryMetricsStore();
  const escalation = new RecordingEscalationStarter();
  const registry = Array.from({ length: DEVICES }, (_, d) => ({
    deviceId: `pump-${d}`,
    manufacturer: "acme",
    model: `pump-${d % 2}`,
  }));
  const scorer = new WindowScorer({
    preparer: testPreparer(registry),
    detectors: new DetectorPool(
      rcfDetectorFactory({ forest: { numberOfTrees: 10, sampleSize: 32, outputAfter: 16 } }),
      checkpoints,
      clock,
    ),
    thresholds: new CachedThresholds(new MemoryThresholds(), clock),
    escalation,
    metrics,
    archive,
    checkpoints,
    clock,
    options: { windowMs: MIN, silenceWindows: 0, stateBudgetBytes: 3_000 },
  });
  return { scorer, metrics, escalation, archive, checkpoints };
}

type Setup = ReturnType<typeof setup>;

async function run(t: Setup, pass: (state: Record<string, string>) => Record<string, unknown>) {
  const states: Record<string, string>[] = [];
  const windows = traffic();
  for (let w = 0; w < windows.length; w++) {
    const window = { startMs: W0 + w * MIN, endMs: W0 + (w + 1) * MIN };
    const base = { shardId: SHARD, window, isWindowTerminatedEarly: false };
    let state: Record<string, unknown> = {};
    for (let i = 0; i < windows[w].length; i += 30) {
      const records = windows[w].slice(i, i + 30);
      let r;
      try {
        r = await t.scorer.processBatch({ ...base, state, isFinalInvokeForWindow: false, records });
      } catch {
        // The archive failed: Lambda retries the batch with the state it handed in.
        r = await t.scorer.processBatch({ ...base, state, isFinalInvokeForWindow: false, records });
      }
      expect(r.failedSequenceNumber).toBeUndefined();
      states.push(r.state);
      state = pass(r.state);
    }
    await t.scorer.processBatch({ ...base, state, isFinalInvokeForWindow: true, records: [] });
  }
  return {
    scored: t.archive.records,
    parts: [...t.metrics.items.entries()].sort(([a], [b]) => a.localeCompare(b)),
    alerts: [...t.escalation.executions.keys()],
    checkpoints: [...t.checkpoints.objects.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    states,
  };
}

describe("window state kept between batches", () => {
  it("gives exactly what parsing the returned state gives (aggregates, −0 included, parts, tail, checkpoints)", async () => {
    const kept = await run(setup(), (state) => state);
    const parsed = await run(setup(), (state) => ({ ...state, x: "not the same state" }));
    expect(kept.parts.length).toBeGreaterThan(0);
    expect(kept.states.filter((s) => s.r !== undefined).length).toBeGreaterThan(10);
    // The device sending −0 has min = max = +0 in every part, as the parsed state gives.
    const zero = kept.parts.filter(([, p]) => p.deviceId === "pump-0" && p.metric === "level");
    expect(zero.length).toBeGreaterThan(1);
    expect(kept.scored).toEqual(parsed.scored);
    expect(kept.parts).toEqual(parsed.parts);
    for (let i = 0; i < kept.parts.length; i++) {
      expect(Object.is(kept.parts[i][1].agg.min, parsed.parts[i][1].agg.min)).toBe(true);
      expect(Object.is(kept.parts[i][1].agg.max, parsed.parts[i][1].agg.max)).toBe(true);
    }
    expect(kept.alerts).toEqual(parsed.alerts);
    expect(kept.states).toEqual(parsed.states);
    expect(kept.checkpoints).toEqual(parsed.checkpoints);
  }, 60_000);

  it("a batch that throws after taking the kept state is retried from the state it was handed", async () => {
    class FlakyArchive extends MemoryArchive {
      calls = 0;
      override async putMany(records: Parameters<MemoryArchive["putMany"]>[0]) {
        this.calls += 1;
        if (this.calls % 4 === 3) throw new Error("Firehose ServiceUnavailable");
        return super.putMany(records);
      }
    }
    // (A retry scores its records again on forests that already learned them, so compare with the same failures
    // on the parsing path, not with a run without failures.)
    const kept = await run(setup(new FlakyArchive()), (state) => state);
    const parsed = await run(setup(new FlakyArchive()), (state) => ({ ...state, x: "not the same state" }));
    expect(kept.scored.length).toBe(800);
    expect(kept.parts).toEqual(parsed.parts);
    expect(kept.states).toEqual(parsed.states);
    expect(kept.scored).toEqual(parsed.scored);
    // Every record counted once: the aggregates' counts add up to the records' metric values.
    const counted = kept.parts.reduce((n, [, p]) => n + p.agg.count, 0);
    expect(counted).toBe(800 * 2);
  }, 60_000);
});
