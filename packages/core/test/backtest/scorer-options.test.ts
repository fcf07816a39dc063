import { describe, expect, it } from "vitest";
import { DetectorPool } from "../../src/scoring/detector-pool.ts";
import { WindowScorer, type StreamRecord } from "../../src/scoring/window-scorer.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import { thresholdRuleSchema } from "../../src/thresholds/threshold-rule.ts";
import { parseEnvelopeBase64 } from "../../src/telemetry/envelope-codec.ts";
import {
  MemoryCheckpointStore,
  RecordMaker,
  memoryScoringPorts,
  testPreparer,
  weatherRecord,
  zScoreFactory,
} from "../scoring/support.ts";

/** The two `WindowScorer` options a replay uses (ADR 0902): no per-window state snapshots, decoded envelopes. */
const MIN = 60_000;
const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const SHARD = "shardId-000000000000";
const devices = [{ deviceId: "st-1", manufacturer: "davis", model: "vantage-pro2", site: "seattle" }];

async function run(snapshotState: boolean | undefined, decoded: boolean) {
  const checkpoints = new MemoryCheckpointStore();
  const ports = memoryScoringPorts(
    [thresholdRuleSchema.parse({ scope: "device#st-1", bounds: { temp: { max: 10 } } })],
    checkpoints,
  );
  const clock = { now: () => W0 + 3 * MIN };
  const scorer = new WindowScorer({
    preparer: testPreparer(devices),
    // The detector pool writes model checkpoints to a store of its own: `checkpoints` sees only shard state.
    detectors: new DetectorPool(zScoreFactory, new MemoryCheckpointStore(), clock),
    thresholds: new CachedThresholds(ports.thresholds, clock, { ttlMs: 0 }),
    escalation: ports.escalation,
    metrics: ports.metrics,
    archive: ports.archive,
    checkpoints,
    clock,
    options: { windowMs: MIN, silenceWindows: 2, stuckReadings: 3, snapshotState },
  });
  const maker = new RecordMaker();
  for (let w = 0; w < 3; w++) {
    const start = W0 + w * MIN;
    const records: StreamRecord[] = [];
    // The same value every 10 s, above the device's bound: a bound alert per window, and a run for the stuck rule.
    for (let s = 0; s < 6; s++) {
      const record = weatherRecord(maker, "st-1", "temp", 20, start + s * 10_000);
      records.push(decoded ? { ...record, envelope: parseEnvelopeBase64(record.data), data: "" } : record);
    }
    await scorer.processBatch({
      shardId: SHARD,
      window: { startMs: start, endMs: start + MIN },
      state: undefined,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
      records,
    });
  }
  return {
    keys: [...checkpoints.objects.keys()].sort(),
    alerts: [...ports.escalation.executions.values()].map((a) => a.rule),
    scored: ports.archive.records.map((r) => ({ ...r, latencyMs: 0 })),
  };
}

describe("WindowScorer options used by replays", () => {
  it("snapshots shard state by default and not with snapshotState: false, raising the same alerts", async () => {
    const live = await run(undefined, false);
    expect(live.keys.length).toBeGreaterThanOrEqual(2);
    expect(live.keys.some((k) => k.startsWith("presence/"))).toBe(true);
    const replay = await run(false, false);
    expect(replay.keys).toEqual([]);
    expect(replay.alerts).toEqual(live.alerts);
    expect(replay.alerts).toContain("bound:temp:high");
    expect(replay.scored).toHaveLength(18);
  });

  it("scores a record's decoded envelope exactly as its base64 data", async () => {
    const fromData = await run(false, false);
    const fromEnvelope = await run(false, true);
    expect(fromEnvelope).toEqual(fromData);
  });
});
