import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { StuckTracker, type StuckVerdict } from "../../src/scoring/stuck-tracker.ts";
import { createPrng } from "../../src/simulator/prng.ts";

const T0 = Date.UTC(2024, 0, 1);

/** Feeds one series, committing every verdict; returns the readings (1-based) that raised. */
function feed(tracker: StuckTracker, values: readonly number[], minReadings = 10, start = 0, id = "dev-1") {
  const raised: { index: number; verdict: StuckVerdict }[] = [];
  values.forEach((value, i) => {
    const v = tracker.evaluate(id, "temp", value, T0 + (start + i) * 1000, minReadings);
    if (!v) return;
    if (v.raise) raised.push({ index: start + i + 1, verdict: v });
    tracker.commit([v]);
  });
  return raised;
}

function noisy(seed: number, n: number, decimals?: number): number[] {
  const prng = createPrng(seed);
  return Array.from({ length: n }, () => {
    const x = 20 + prng.normal() * 0.5;
    return decimals === undefined ? x : Math.round(x * 10 ** decimals) / 10 ** decimals;
  });
}

describe("stuck tracker", () => {
  it("raises once when a varying metric repeats one value for the minimum run, and again for a later run", () => {
    const tracker = new StuckTracker();
    const before = noisy(1, 200);
    const stuckAt = before[199];
    const first = feed(tracker, [...before, ...new Array<number>(40).fill(stuckAt)]);
    // The run began with reading 200 (the first `stuckAt`); its 10th reading is reading 209.
    expect(first.map((r) => r.index)).toEqual([209]);
    expect(first[0].verdict).toMatchObject({ runLength: 10, limit: 10, runStartMs: T0 + 199_000 });
    const later = feed(tracker, [...noisy(2, 100), ...new Array<number>(15).fill(7)], 10, 240);
    expect(later.map((r) => r.index)).toEqual([240 + 100 + 10]);
    expect(later[0].verdict.runStartMs).toBe(T0 + 340_000);
  });

  it("never raises for a metric that has not varied yet, or before its normal repeats are known", () => {
    const tracker = new StuckTracker();
    expect(feed(tracker, new Array<number>(5_000).fill(1))).toEqual([]);
    // 20 changes are fewer than the 50 completed runs needed to know the series.
    const young = new StuckTracker();
    expect(feed(young, [...noisy(3, 20), ...new Array<number>(100).fill(5)])).toEqual([]);
  });

  it("learns how long a quantized metric's runs normally are and only flags clearly longer ones", () => {
    // Whole-degree readings of a slow signal: runs of 5–20 equal values are normal here.
    const prng = createPrng(11);
    const values: number[] = [];
    for (let i = 0; i < 3_000; i++) values.push(Math.round(20 + 2 * Math.sin(i / 40) + prng.normal() * 0.2));
    const tracker = new StuckTracker();
    expect(feed(tracker, values)).toEqual([]);
    const v = tracker.evaluate("dev-1", "temp", values[2_999], T0 + 2_999_999, 10)!;
    expect(v.limit).toBeGreaterThan(30);
    // A sensor stuck for far longer than any normal run is still found.
    const stuck = feed(tracker, new Array<number>(400).fill(99), 10, 3_000);
    expect(stuck).toHaveLength(1);
    expect(stuck[0].verdict.runLength).toBe(stuck[0].verdict.limit);
    expect(stuck[0].verdict.limit).toBeGreaterThan(30);
  });

  it("does not count redelivered, duplicated or late readings", () => {
    const tracker = new StuckTracker();
    feed(tracker, noisy(4, 100));
    /** Readings `from`…`to - 1` of a run of 3s, each committed like a processed record. */
    const run = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => {
        const v = tracker.evaluate("dev-1", "temp", 3, T0 + (200 + from + k) * 1000, 10);
        if (v) tracker.commit([v]);
        return v;
      });
    expect(run(0, 8).map((v) => v?.runLength)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The same 8 readings again (a retried batch) and one late reading: no effect at all.
    expect(run(0, 8)).toEqual(new Array(8).fill(undefined));
    expect(tracker.evaluate("dev-1", "temp", 3, T0 + 150_000, 10)).toBeUndefined();
    const next = run(8, 10);
    expect(next.map((v) => [v?.runLength, v?.raise])).toEqual([
      [9, false],
      [10, true],
    ]);
  });

  it("leaves no trace of an evaluation that is not committed (a failed record is retried as new)", () => {
    const tracker = new StuckTracker();
    feed(tracker, noisy(5, 100));
    feed(tracker, new Array<number>(9).fill(4), 10, 100);
    const t = T0 + 109_000;
    const first = tracker.evaluate("dev-1", "temp", 4, t, 10)!;
    expect(first.raise).toBe(true); // ...but starting the escalation failed: not committed
    const retry = tracker.evaluate("dev-1", "temp", 4, t, 10)!;
    expect(retry).toMatchObject({ raise: true, runLength: 10, runStartMs: T0 + 100_000 });
    tracker.commit([retry]);
    expect(tracker.evaluate("dev-1", "temp", 4, t, 10)).toBeUndefined();
    expect(tracker.evaluate("dev-1", "temp", 4, t + 1000, 10)).toMatchObject({ raise: false, stuck: true });
  });

  it("is disabled by 0, survives a snapshot round trip, stays bounded and shrugs off a corrupt snapshot", () => {
    const tracker = new StuckTracker({ maxSeries: 3 });
    expect(tracker.evaluate("dev-1", "temp", 1, T0, 0)).toBeUndefined();
    for (const id of ["a", "b", "c", "d", "e"]) feed(tracker, noisy(6, 60), 10, 0, id);
    expect(tracker.size).toBe(3);
    feed(tracker, new Array<number>(6).fill(8), 10, 60, "e");
    expect(tracker.dirty).toBe(true);
    const bytes = tracker.toBytes();
    expect(tracker.dirty).toBe(false);
    const { tracker: restored, error } = StuckTracker.fromBytes(bytes, { maxSeries: 3 });
    expect(error).toBeUndefined();
    expect(restored.size).toBe(3);
    // The run of 6 continues after the restore: 4 more readings make it stuck.
    const more = feed(restored, new Array<number>(4).fill(8), 10, 66, "e");
    expect(more.map((r) => r.verdict.runLength)).toEqual([10]);
    expect(StuckTracker.fromBytes(bytes, { maxSeries: 2 }).tracker.size).toBe(2);
    const corrupt = StuckTracker.fromBytes(new Uint8Array([1, 2, 3]));
    expect(corrupt.error).toBeDefined();
    expect(corrupt.tracker.size).toBe(0);
  });

  it("keeps series least recently updated first: in the snapshot, in eviction, and across a restore", () => {
    const keysOf = (t: StuckTracker) =>
      (JSON.parse(gunzipSync(t.toBytes()).toString("utf8")) as { series: [string][] }).series.map(([k]) =>
        k.split("\u0000").join("/"),
      );
    const tracker = new StuckTracker({ maxSeries: 3 });
    const step = (id: string, metric: string, value: number, i: number) => {
      const v = tracker.evaluate(id, metric, value, T0 + i * 1000, 10);
      if (v) tracker.commit([v]);
    };
    step("a", "x", 1, 0);
    step("b", "x", 1, 1);
    step("a", "y", 1, 2);
    expect(keysOf(tracker)).toEqual(["a/x", "b/x", "a/y"]);
    step("a", "x", 2, 3); // a/x updated: now the most recent
    expect(keysOf(tracker)).toEqual(["b/x", "a/y", "a/x"]);
    step("a", "x", 2, 3); // a duplicate: no verdict, no change of order
    step("c", "x", 1, 4); // a fourth series: b/x (least recently updated) goes
    expect(keysOf(tracker)).toEqual(["a/y", "a/x", "c/x"]);
    // One record's verdicts commit in order; the restore keeps the order, and evicts the oldest beyond its bound.
    const y = tracker.evaluate("a", "y", 3, T0 + 5000, 10)!;
    const x = tracker.evaluate("c", "x", 3, T0 + 5000, 10)!;
    tracker.commit([y, x]);
    expect(keysOf(tracker)).toEqual(["a/x", "a/y", "c/x"]);
    const restored = StuckTracker.fromBytes(tracker.toBytes(), { maxSeries: 2 }).tracker;
    expect(keysOf(restored)).toEqual(["a/y", "c/x"]);
    const again = restored.evaluate("a", "y", 4, T0 + 6000, 10)!;
    restored.commit([again]);
    expect(keysOf(restored)).toEqual(["c/x", "a/y"]);
  });
});
