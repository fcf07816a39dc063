import { describe, expect, it } from "vitest";
import { DetectorPool } from "../../src/scoring/detector-pool.ts";
import { WindowScorer, type StreamRecord } from "../../src/scoring/window-scorer.ts";
import { RecentReadings } from "../../src/telemetry/recent-readings.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import { thresholdRuleSchema } from "../../src/thresholds/threshold-rule.ts";
import { mergeParts } from "../../src/window/stored-part.ts";
import { RecordMaker, memoryScoringPorts, testPreparer, weatherRecord, zScoreFactory } from "./support.ts";

const MIN = 60_000;
const W0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const SHARD = "shardId-000000000000";
const devices = [{ deviceId: "st-1", manufacturer: "davis", model: "vantage-pro2", site: "seattle" }];

/** The same message published again (QoS 1 DUP after a reconnect): same topic and bytes, new record. */
function resend(maker: RecordMaker, original: StreamRecord): StreamRecord {
  const copy = maker.make("x", "{}", original.arrivalMs + 2000);
  const envelope = JSON.parse(Buffer.from(original.data, "base64").toString("utf8"));
  envelope.receivedAt += 2000; // the broker receives it again, later
  return {
    ...copy,
    partitionKey: original.partitionKey,
    data: Buffer.from(JSON.stringify(envelope)).toString("base64"),
  };
}

describe("duplicate resends (ADR 0203)", () => {
  it("RecentReadings: a resend is a duplicate, a retry of the same record is not", () => {
    const recent = new RecentReadings(2);
    expect(recent.isDuplicate("rd_a", "seq-1")).toBe(false);
    expect(recent.isDuplicate("rd_a", "seq-1")).toBe(false); // retried batch: same record
    expect(recent.isDuplicate("rd_a", "seq-2")).toBe(true); // resend: another record
    expect(recent.isDuplicate(undefined, "seq-3")).toBe(false);
    recent.isDuplicate("rd_b", "s");
    recent.isDuplicate("rd_c", "s"); // capacity 2: rd_a is forgotten
    expect(recent.size).toBe(2);
  });

  it("a client's resends are counted once in the window aggregates and raise no second alert", async () => {
    const now = { t: W0 };
    const clock = { now: () => now.t };
    const ports = memoryScoringPorts([
      thresholdRuleSchema.parse({ scope: "global", bounds: { temp: { max: 50 } } }),
    ]);
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
    const originals = Array.from({ length: 10 }, (_, s) =>
      weatherRecord(maker, "st-1", "temp", s === 5 ? 99 : 20 + s / 10, W0 + s * 1000),
    );
    const resends = originals.map((record) => resend(maker, record));
    const base = {
      shardId: SHARD,
      window: { startMs: W0, endMs: W0 + MIN },
      isWindowTerminatedEarly: false,
    };
    const first = await scorer.processBatch({
      ...base,
      state: {},
      isFinalInvokeForWindow: false,
      records: originals,
    });
    const second = await scorer.processBatch({
      ...base,
      state: first.state,
      isFinalInvokeForWindow: false,
      records: resends,
    });
    expect(second.failedSequenceNumber).toBeUndefined();
    await scorer.processBatch({ ...base, state: second.state, isFinalInvokeForWindow: true, records: [] });
    const view = mergeParts(ports.metrics.all()).find((v) => v.metric === "temp");
    expect(view?.count).toBe(10);
    expect(ports.archive.records).toHaveLength(10);
    expect(ports.escalation.executions.size).toBe(1);
  });
});

describe("resends that straddle a restart (kill -9, a new container)", () => {
  function scorerOn(ports: ReturnType<typeof memoryScoringPorts>) {
    const clock = { now: () => W0 };
    return new WindowScorer({
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
  }
  const base = { shardId: SHARD, isWindowTerminatedEarly: false };
  const window = (start: number) => ({ startMs: start, endMs: start + MIN });

  it("within a window: the tail in the window state recognises them in a fresh process", async () => {
    const ports = memoryScoringPorts();
    const maker = new RecordMaker();
    const originals = Array.from({ length: 5 }, (_, s) =>
      weatherRecord(maker, "st-1", "temp", 20 + s, W0 + s * 1000),
    );
    const first = await scorerOn(ports).processBatch({
      ...base,
      window: window(W0),
      state: {},
      isFinalInvokeForWindow: false,
      records: originals,
    });
    const restarted = scorerOn(ports); // the process was killed; the mapping resumes with its checkpointed state
    const again = await restarted.processBatch({
      ...base,
      window: window(W0),
      state: first.state,
      isFinalInvokeForWindow: false,
      records: originals.map((r) => resend(maker, r)),
    });
    await restarted.processBatch({
      ...base,
      window: window(W0),
      state: again.state,
      isFinalInvokeForWindow: true,
      records: [],
    });
    expect(mergeParts(ports.metrics.all()).find((v) => v.metric === "temp")?.count).toBe(5);
  });

  it("across windows: the tail saved at window end is loaded at a cold start", async () => {
    const ports = memoryScoringPorts();
    const maker = new RecordMaker();
    const originals = Array.from({ length: 5 }, (_, s) =>
      weatherRecord(maker, "st-1", "temp", 20 + s, W0 + s * 1000),
    );
    const a = scorerOn(ports);
    const first = await a.processBatch({
      ...base,
      window: window(W0),
      state: {},
      isFinalInvokeForWindow: false,
      records: originals,
    });
    await a.processBatch({
      ...base,
      window: window(W0),
      state: first.state,
      isFinalInvokeForWindow: true,
      records: [],
    });
    const b = scorerOn(ports); // cold start in the next window
    const W1 = W0 + MIN;
    const resent = await b.processBatch({
      ...base,
      window: window(W1),
      state: {},
      isFinalInvokeForWindow: false,
      records: originals.map((r) => resend(maker, r)),
    });
    expect(resent.summary.rejected).toBe(5);
    expect(ports.archive.records).toHaveLength(5);
    // A new reading is scored as usual.
    const retried = await b.processBatch({
      ...base,
      window: window(W1),
      state: {},
      isFinalInvokeForWindow: false,
      records: [weatherRecord(maker, "st-1", "temp", 30, W1 + 1000)],
    });
    expect(retried.summary.rejected).toBe(0);
  });
});

describe("ingest: resends keep their readingId; dropping them is opt-in", () => {
  it("the same message delivered twice has one readingId; with RecentReadings the second is Dropped", async () => {
    const { transformIngestBatch } = await import("../../src/telemetry/ingest-batch.ts");
    const { encodeEnvelope } = await import("../../src/telemetry/envelope.ts");
    const payload = JSON.stringify({ value: 20.5, smoothed: 20.5, direction: 0, timestamp: W0 });
    const topic = "weather/wa/seattle/st-1/temp/sensor-temp-1";
    const record = (id: string, receivedAt: number) => ({
      recordId: id,
      data: Buffer.from(JSON.stringify(encodeEnvelope(topic, payload, receivedAt, id))).toString("base64"),
      arrivalMs: receivedAt,
    });
    const preparer = testPreparer(devices);
    const lines = (outcomes: { result: string; data: string }[]) =>
      outcomes
        .filter((o) => o.result === "Ok")
        .map((o) => JSON.parse(Buffer.from(o.data, "base64").toString("utf8")) as { readingId: string });

    const kept = await transformIngestBatch([record("a", W0), record("b", W0 + 2000)], {
      preparer,
      vault: false,
    });
    const [first, second] = lines(kept.outcomes);
    expect(first.readingId).toMatch(/^rd_/);
    expect(second.readingId).toBe(first.readingId);

    const recentReadings = new RecentReadings();
    const one = await transformIngestBatch([record("a", W0)], { preparer, vault: false, recentReadings });
    const retry = await transformIngestBatch([record("a", W0)], { preparer, vault: false, recentReadings });
    const resend = await transformIngestBatch([record("b", W0 + 2000)], {
      preparer,
      vault: false,
      recentReadings,
    });
    expect(one.outcomes[0].result).toBe("Ok");
    expect(retry.outcomes[0].result).toBe("Ok"); // Firehose retrying the same record is not a duplicate
    expect(resend.outcomes[0].result).toBe("Dropped");
    expect(resend.summary).toMatchObject({ dropped: 1, resent: 1 });
  });
});
