import { describe, expect, it } from "vitest";
import { DetectorPool } from "../../src/scoring/detector-pool.ts";
import { WindowScorer } from "../../src/scoring/window-scorer.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import { WindowAccumulator } from "../../src/window/window-accumulator.ts";
import { RecordMaker, memoryScoringPorts, testPreparer, weatherRecord, zScoreFactory } from "./support.ts";

const MIN = 60_000;
const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);

describe("scoring on bad input: the cause of issue 11's TransientErrors", () => {
  it("±1e200 readings would make the window variance Infinity, which the state cannot carry", () => {
    const acc = new WindowAccumulator(W0);
    acc.beginRecord("1");
    acc.add("st-1", "temp", { value: 1e200, eventMs: W0 });
    acc.beginRecord("2");
    acc.add("st-1", "temp", { value: -1e200, eventMs: W0 + 1 });
    expect(acc.segment().series[0].agg.m2).toBe(Infinity); // what used to reach the state and the store
  });

  it("such readings are rejected at prepare (METRIC_OUT_OF_RANGE); the batch and the final invoke succeed", async () => {
    const clock = { now: () => W0 };
    const ports = memoryScoringPorts();
    const devices = [{ deviceId: "st-1", manufacturer: "davis", model: "vantage-pro2" }];
    const scorer = new WindowScorer({
      preparer: testPreparer(devices),
      detectors: new DetectorPool(zScoreFactory, ports.checkpoints, clock),
      thresholds: new CachedThresholds(ports.thresholds, clock, { ttlMs: 0 }),
      escalation: ports.escalation,
      metrics: ports.metrics,
      archive: ports.archive,
      checkpoints: ports.checkpoints,
      clock,
      options: { windowMs: MIN },
    });
    const maker = new RecordMaker();
    const records = [1e200, -1e200, 20, 21].map((v, i) =>
      weatherRecord(maker, "st-1", "temp", v, W0 + i * 1000),
    );
    const base = {
      shardId: "shardId-000000000000",
      window: { startMs: W0, endMs: W0 + MIN },
      isWindowTerminatedEarly: false,
    };
    const batch = await scorer.processBatch({ ...base, state: {}, isFinalInvokeForWindow: false, records });
    expect(batch.failedSequenceNumber).toBeUndefined();
    expect(batch.summary.rejected).toBe(2);
    const final = await scorer.processBatch({
      ...base,
      state: batch.state,
      isFinalInvokeForWindow: true,
      records: [],
    });
    expect(final.failedSequenceNumber).toBeUndefined();
    expect(JSON.stringify(ports.metrics.all())).not.toContain("null");
  });
});
