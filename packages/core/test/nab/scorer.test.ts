import { describe, expect, it } from "vitest";
import {
  probationaryLength,
  rowWeights,
  scaledSigmoid,
  scoreCorpus,
  windowRows,
  type NabSeries,
} from "../../src/nab/index.ts";

const MINUTE = 60_000;
/** A series of n rows one minute apart with windows given as row ranges. */
function series(name: string, n: number, windows: [number, number][], detections: number[]): NabSeries {
  const times = Array.from({ length: n }, (_, i) => i * MINUTE);
  const scores = new Float64Array(n);
  for (const d of detections) scores[d] = 1;
  return { name, times, scores, windows: windows.map(([a, b]) => [a * MINUTE, b * MINUTE] as const) };
}

describe("NAB scorer", () => {
  it("scaled sigmoid: +0.987 at a window's left edge, 0 at its right edge, −1 far after", () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(2 / (1 + Math.exp(-5)) - 1, 12);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3.5)).toBe(-1);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.9866, 4);
  });

  it("probationary period is 15 % capped at 750 rows", () => {
    expect(probationaryLength(1000)).toBe(150);
    expect(probationaryLength(20000)).toBe(750);
  });

  it("weights rows inside windows by position and after windows by distance", () => {
    const { weight, window } = rowWeights(100, [[40, 49]], { name: "t", tp: 1, fn: 1, fp: 0.11 }, 15);
    expect(window[10]).toBe(-2);
    expect(weight[20]).toBeCloseTo(-0.11, 12); // before any window: full FP cost
    expect(weight[40]).toBeCloseTo(scaledSigmoid(-1), 12); // left edge
    expect(weight[49]).toBeCloseTo(scaledSigmoid(-0.1), 12);
    expect(weight[50]).toBeCloseTo(0.11 * scaledSigmoid(1 / 9), 12); // just after: tiny penalty
    expect(weight[99]).toBeCloseTo(-0.11, 12); // far after: full penalty
  });

  it("null detector scores 0, perfect early detections score ≈ 98.7, late ones less", () => {
    const windows: [number, number][] = [
      [300, 349],
      [600, 649],
    ];
    const nothing = scoreCorpus([series("a", 1000, windows, [])], "standard");
    expect(nothing.normalized).toBe(0);
    expect(nothing.nullScore).toBe(-2);
    expect(nothing.perfectScore).toBe(2);
    const early = scoreCorpus([series("a", 1000, windows, [300, 600])], "standard");
    expect(early.tp).toBe(2);
    expect(early.normalized).toBeCloseTo((100 * (2 * scaledSigmoid(-1) + 2)) / 4, 9);
    const late = scoreCorpus([series("a", 1000, windows, [349, 649])], "standard");
    expect(late.normalized).toBeLessThan(early.normalized);
    expect(late.normalized).toBeGreaterThan(50);
  });

  it("counts only the first detection in a window and charges false positives per profile", () => {
    const windows: [number, number][] = [[300, 349]];
    const base = scoreCorpus([series("a", 1000, windows, [300])], "standard");
    const extraInside = scoreCorpus([series("a", 1000, windows, [300, 310, 320])], "standard");
    expect(extraInside.raw).toBeCloseTo(base.raw, 12);
    const withFp = scoreCorpus([series("a", 1000, windows, [300, 900])], "standard");
    // The optimizer may ignore the FP only by losing the TP, so the FP is kept and costs 0.11.
    expect(withFp.raw).toBeCloseTo(base.raw - 0.11, 9);
    const lowFp = scoreCorpus([series("a", 1000, windows, [300, 900])], "reward_low_FP_rate");
    expect(lowFp.raw).toBeCloseTo(base.raw - 0.22, 9);
    const lowFn = scoreCorpus([series("a", 1000, windows, [])], "reward_low_FN_rate");
    expect(lowFn.nullScore).toBe(-2);
  });

  it("optimizes one threshold across the corpus", () => {
    // Series a: the window's row has score 0.6, noise rows 0.5; series b: window row 0.9, noise 0.7 on 20 rows.
    const a = series("a", 1000, [[500, 549]], []);
    const b = series("b", 1000, [[500, 549]], []);
    (a.scores as Float64Array).fill(0.1);
    (b.scores as Float64Array).fill(0.1);
    (a.scores as Float64Array)[500] = 0.6;
    for (let i = 0; i < 20; i++) (a.scores as Float64Array)[200 + i * 10] = 0.5;
    (b.scores as Float64Array)[500] = 0.9;
    for (let i = 0; i < 20; i++) (b.scores as Float64Array)[200 + i * 10] = 0.7;
    const r = scoreCorpus([a, b], "standard");
    // Detecting a's window at 0.6 also takes b's 20 false positives at 0.7 (cost 2.2 > 1.99 gained).
    expect(r.threshold).toBe(0.9);
    expect(r.tp).toBe(1);
    expect(r.fn).toBe(1);
  });

  it("maps windows to rows and refuses empty or overlapping windows", () => {
    const s = series("a", 100, [[10, 20]], []);
    expect(windowRows(s)).toEqual([[10, 20]]);
    expect(() => windowRows({ ...s, windows: [[500 * MINUTE, 600 * MINUTE]] })).toThrow(/holds no rows/);
    expect(() =>
      windowRows({
        ...s,
        windows: [
          [10 * MINUTE, 20 * MINUTE],
          [15 * MINUTE, 30 * MINUTE],
        ],
      }),
    ).toThrow(/overlap/);
  });
});
