import { gunzipSync, gzipSync } from "node:zlib";
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

/**
 * Wind-like readings every 4 s, clamped at 0 m/s: a noisy level that wanders slowly (OU, τ = 300 s), and calm
 * stretches `[fromHour, hours]` where the air stays still (the reading holds 0 for hours).
 */
function calmWind(seed: number, hours: number, calms: readonly (readonly [number, number])[]): number[] {
  const prng = createPrng(seed);
  const values: number[] = [];
  let wander = 0;
  const phi = Math.exp(-4 / 300);
  for (let i = 0; i < (hours * 3600) / 4; i++) {
    const hour = (i * 4) / 3600;
    wander = wander * phi + 1.2 * Math.sqrt(1 - phi * phi) * prng.normal();
    const calm = calms.some(([from, length]) => hour >= from && hour < from + length);
    const level = calm ? -3 : 2 + wander;
    values.push(Math.max(0, level + 0.4 * prng.normal()));
  }
  return values;
}

/** Feeds readings `step` ms apart from `startMs`; returns the raising verdicts. */
function feedEvery(tracker: StuckTracker, values: readonly number[], startMs: number, stepMs: number) {
  const raised: StuckVerdict[] = [];
  values.forEach((value, i) => {
    const v = tracker.evaluate("station-1", "wind", value, startMs + i * stepMs, 10);
    if (!v) return;
    if (v.raise) raised.push(v);
    tracker.commit([v]);
  });
  return raised;
}

describe("stuck tracker at a series' floor or ceiling", () => {
  it("raises nothing for a series that rests at its floor for hours (calm air at 0 m/s)", () => {
    const tracker = new StuckTracker();
    const values = calmWind(21, 30, [[8, 4]]);
    // Calm air also reads 0 now and then outside the calm stretch: the floor is held before the long rest.
    expect(values.slice(0, 7_200).filter((x) => x === 0).length).toBeGreaterThan(50);
    expect(feedEvery(tracker, values, T0, 4_000)).toEqual([]);
    const v = tracker.evaluate("station-1", "wind", 0, T0 + values.length * 4_000, 10);
    expect(v?.atBound).toBe(true);
  });

  it("still raises for a run at an interior value, at the threshold rule's length", () => {
    const tracker = new StuckTracker();
    const values = calmWind(22, 6, [[2, 1]]);
    expect(feedEvery(tracker, values, T0, 4_000)).toEqual([]);
    const interior = values.filter((x) => x > 0).at(-1)!;
    const raised = feedEvery(
      tracker,
      new Array<number>(30).fill(interior),
      T0 + values.length * 4_000,
      4_000,
    );
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ atBound: false, runLength: 10, limit: 10 });
  });

  it("judges a floor run by the series' own floor runs once it has seen a full day there", () => {
    const tracker = new StuckTracker();
    // Day 1: calm for 4 h. Day 2: calm again for 2 h (after the warm-up day, and shorter than day 1's): nothing.
    const days = calmWind(23, 48, [
      [8, 4],
      [32, 2],
    ]);
    expect(feedEvery(tracker, days, T0, 4_000)).toEqual([]);
    const longest = tracker.evaluate("station-1", "wind", 0, T0 + days.length * 4_000, 10)!.limit;
    // The bar comes from day 1's 4-hour calm (3,600 readings), decayed a little by the floor runs since.
    expect(longest).toBeGreaterThan(3 * 1_800);
    // A dead anemometer reading 0 from then on: raised once the run is three times the longest calm seen.
    const dead = feedEvery(tracker, new Array<number>(longest + 10).fill(0), T0 + days.length * 4_000, 4_000);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ atBound: true, runLength: longest });
  });

  it("reads a v1 snapshot (no floor or ceiling yet) and writes v3", () => {
    const key = "dev-1\u0000temp";
    // v1: 60 completed runs, longest normal run 2, a run of 6 at 8 going on.
    const v1 = { v: 1, series: [[key, 8, 6, T0 + 99_000, T0 + 94_000, 2, 50, 0]] };
    const { tracker, error } = StuckTracker.fromBytes(gzipSync(Buffer.from(JSON.stringify(v1))));
    expect(error).toBeUndefined();
    const more = feed(tracker, new Array<number>(4).fill(8), 10, 100);
    expect(more.map((r) => [r.verdict.runLength, r.verdict.atBound])).toEqual([[10, false]]);
    const saved = JSON.parse(gunzipSync(tracker.toBytes()).toString("utf8")) as {
      v: number;
      series: unknown[][];
    };
    expect(saved.v).toBe(3);
    expect(saved.series[0]).toEqual([
      key,
      8,
      10,
      T0 + 103_000,
      T0 + 94_000,
      2,
      50,
      1,
      null,
      null,
      0,
      null,
      0,
      0,
      0,
      10, // the tail's N: a snapshot before v3 counted it at the default of its time
    ]);
    // A run ends: the restored series starts learning its floor and ceiling from there, and v3 round-trips them.
    // 9 and then 7 are new extremes; the second run of 9 holds a ceiling held before: the warm-up day starts.
    feed(tracker, [9, 7, 7, 9, 9, 7], 10, 104);
    const restored = StuckTracker.fromBytes(tracker.toBytes()).tracker;
    const row = (JSON.parse(gunzipSync(restored.toBytes()).toString("utf8")) as { series: unknown[][] })
      .series[0];
    expect(row.slice(8, 12)).toEqual([7, 9, 2, T0 + 108_000]);
  });
});

describe("stuck tracker's tail bar on a quantized series", () => {
  /** A fan's whole-Hz frequency at 1 Hz: OU wander (σ 0.6, τ 60 s) plus noise 0.3, rounded (long normal runs). */
  function fanFreq(seed: number, n: number): number[] {
    const prng = createPrng(seed);
    const phi = Math.exp(-1 / 60);
    let wander = 0;
    return Array.from({ length: n }, () => {
      wander = wander * phi + 0.6 * Math.sqrt(1 - phi * phi) * prng.normal();
      return Math.round(50 + wander + 0.3 * prng.normal());
    });
  }

  it("sets the bar from the series' own run lengths: quiet for a day, just above its longest normal run, still raises", () => {
    const values = fanFreq(31, 86_400);
    const tail = new StuckTracker();
    const mle = new StuckTracker({ tailConfidence: 0 });
    expect(feed(tail, values, 5)).toEqual([]);
    feed(mle, values, 5);
    const at = T0 + 86_400_000;
    const tailLimit = tail.evaluate("dev-1", "temp", 99, at, 5)!.limit;
    const mleLimit = mle.evaluate("dev-1", "temp", 99, at, 5)!.limit;
    const longest = Math.max(...runLengths(values));
    // The bar sits above every normal run of the day, and not far above the longest; the Wilson bound only adds a
    // little margin once the tail has been seen in many runs.
    expect(tailLimit).toBeGreaterThan(longest);
    expect(tailLimit).toBeLessThan(1.5 * longest);
    expect(tailLimit).toBeGreaterThanOrEqual(mleLimit);
    expect(tailLimit).toBeLessThan(1.25 * mleLimit);
    const stuck = feed(tail, new Array<number>(tailLimit + 5).fill(99), 5, 86_400);
    expect(stuck.map((r) => r.verdict.runLength)).toEqual([tailLimit]);
  });

  it("does not trust a tail seen in few runs: a bar well above the fit's point estimate", () => {
    // 0.1-degree readings of a monitor: noise about one step, so runs of 5 equal values happen, but seldom.
    const prng = createPrng(5);
    const values = Array.from(
      { length: 20_000 },
      (_, i) => Math.round(981 + 2 * Math.sin(i / 3000) + prng.normal()) / 10,
    );
    const tail = new StuckTracker();
    const mle = new StuckTracker({ tailConfidence: 0 });
    expect(feed(tail, values, 5)).toEqual([]);
    feed(mle, values, 5);
    const at = T0 + 20_000_000;
    const tailLimit = tail.evaluate("dev-1", "temp", 1, at, 5)!.limit;
    const mleLimit = mle.evaluate("dev-1", "temp", 1, at, 5)!.limit;
    expect(tailLimit).toBeGreaterThan(mleLimit);
    expect(tailLimit).toBeGreaterThan(Math.max(...runLengths(values)));
  });

  it("starts the tail afresh when the series is judged with another N (a scope's stuckReadings changed)", () => {
    const values = fanFreq(32, 20_000);
    const tracker = new StuckTracker();
    feed(tracker, values, 5);
    const learned = tracker.evaluate("dev-1", "temp", 99, T0 + 20_000_000, 5)!;
    // At N = 8 the tail counted from 5 says nothing: until runs end under the new N, the bar is 3 × the longest run.
    const other = tracker.evaluate("dev-1", "temp", 99, T0 + 20_000_000, 8)!;
    expect(other.next).toMatchObject({ b: 8, k: 0, e: 0 });
    expect(other.limit).toBe(Math.max(8, Math.ceil(3 * other.next.l)));
    expect(learned.limit).not.toBe(other.limit);
  });
});

function runLengths(values: readonly number[]): number[] {
  const runs: number[] = [];
  let n = 0;
  values.forEach((x, i) => {
    n = i > 0 && x === values[i - 1] ? n + 1 : 1;
    if (i === values.length - 1 || values[i + 1] !== x) runs.push(n);
  });
  return runs;
}
