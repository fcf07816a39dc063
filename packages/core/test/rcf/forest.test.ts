import { describe, expect, it } from "vitest";
import { InvalidPointError, RandomCutForest, forestPresets } from "../../src/rcf/index.ts";
import { ValidationError } from "../../src/shared/errors.ts";
import { gaussian, lcg } from "./helpers.ts";

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

describe("RandomCutForest", () => {
  it("has the KDA and library presets", () => {
    expect(forestPresets.kda).toMatchObject({
      numberOfTrees: 100,
      sampleSize: 256,
      timeDecay: 100000,
      shingleSize: 1,
      outputAfter: 256,
    });
    expect(forestPresets.library).toMatchObject({
      numberOfTrees: 50,
      sampleSize: 256,
      timeDecay: 2560,
      outputAfter: 64,
    });
    const f = new RandomCutForest(3);
    expect(f.options.numberOfTrees).toBe(100);
    expect(f.shingledDimensions).toBe(3);
  });

  it("scores 0 until outputAfter points, then inliers score near 1", () => {
    const rand = gaussian(lcg(3));
    const f = new RandomCutForest(2, { preset: "kda", seed: 9 });
    const inlierScores: number[] = [];
    for (let i = 0; i < 1500; i++) {
      const p = [rand(), rand()];
      const s = f.score(p);
      if (i < 256) expect(s).toBe(0);
      else inlierScores.push(s);
      f.update(p);
    }
    const median = percentile(inlierScores.slice(-500), 0.5);
    expect(median).toBeGreaterThan(0.6);
    expect(median).toBeLessThan(1.3);
    // A far outlier scores several times the inliers.
    expect(f.score([12, -9])).toBeGreaterThan(3 * median);
  });

  it("counts input points for outputAfter when shingling, as KDA and the AWS library: first score at point 256", () => {
    const rand = gaussian(lcg(11));
    const f = new RandomCutForest(1, { preset: "kda", shingleSize: 8, seed: 2 });
    let first = -1;
    for (let i = 0; i < 300 && first < 0; i++) {
      const p = [rand()];
      if (f.score(p) > 0) first = i;
      f.update(p);
    }
    expect(first).toBe(256);
    expect(f.totalUpdates).toBe(257);
  });

  for (const d of [1, 3, 5]) {
    it(`ranks planted anomalies at the top in ${d}-D`, () => {
      const rand = lcg(100 + d);
      const g = gaussian(rand);
      const f = new RandomCutForest(d, { seed: d });
      const planted = new Set([1200, 1500, 1800, 2100, 2400]);
      const scores: { i: number; s: number }[] = [];
      for (let i = 0; i < 2600; i++) {
        const p = Array.from({ length: d }, () => g());
        // 6 + d standard deviations along one metric: the tail of a d-dimensional Gaussian widens with d.
        if (planted.has(i)) p[i % d] += (rand() < 0.5 ? -1 : 1) * (6 + d);
        const s = f.score(p);
        if (i >= 1000) scores.push({ i, s });
        f.update(p);
      }
      scores.sort((a, b) => b.s - a.s);
      const top = new Set(scores.slice(0, planted.size).map((x) => x.i));
      expect([...planted].filter((i) => top.has(i)).length).toBe(planted.size);
    });
  }

  it("scores spikes in a noisy sine well above the 99th percentile of inliers (shingled)", () => {
    const rand = lcg(5);
    const g = gaussian(rand);
    const f = new RandomCutForest(1, { shingleSize: 4, seed: 4 });
    // Two spikes leave the sine's range, one (phase 0) stays inside it.
    const spikes = new Set([2000, 2600, 3300]);
    const shingled = (i: number) => [...spikes].some((s) => i >= s && i < s + 4);
    const inliers: number[] = [];
    const spikeScores: number[] = [];
    for (let i = 0; i < 3600; i++) {
      let v = 10 * Math.sin((2 * Math.PI * i) / 60) + 0.5 * g();
      if (spikes.has(i)) v += 8;
      const s = f.score([v]);
      if (spikes.has(i)) spikeScores.push(s);
      else if (i >= 1000 && !shingled(i)) inliers.push(s);
      f.update([v]);
    }
    const p99 = percentile(inliers, 0.99);
    expect(spikeScores[0]).toBeGreaterThan(2 * p99);
    expect(spikeScores[1]).toBeGreaterThan(2 * p99);
    expect(spikeScores[2]).toBeGreaterThan(1.3 * p99);
  });

  it("attribution sums to the score and names the perturbed metric with its direction", () => {
    const g = gaussian(lcg(8));
    const f = new RandomCutForest(4, { seed: 2 });
    for (let i = 0; i < 1500; i++) f.update([g(), g(), g(), g()]);
    for (const [metric, delta, direction] of [
      [2, 6, "high"],
      [0, -6, "low"],
      [3, 5, "high"],
    ] as const) {
      const p = [0.1, -0.2, 0.05, 0.3];
      p[metric] += delta;
      const score = f.score(p);
      const { high, low } = f.attribution(p);
      const sum = high.reduce((a, b) => a + b, 0) + low.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(score, 9);
      const contributions = Array.from(high, (h, k) => h + low[k]);
      const top = contributions.indexOf(Math.max(...contributions));
      expect(top).toBe(metric);
      expect(contributions[metric]).toBeGreaterThan(0.6 * score);
      if (direction === "high") expect(high[metric]).toBeGreaterThan(low[metric]);
      else expect(low[metric]).toBeGreaterThan(high[metric]);
    }
  });

  it("attribution with shingling adds up per metric", () => {
    const g = gaussian(lcg(12));
    const f = new RandomCutForest(2, { shingleSize: 3, seed: 5 });
    for (let i = 0; i < 800; i++) f.update([g(), 10 + g()]);
    const p = [0, 25];
    const { high, low } = f.attribution(p);
    expect(high[0] + low[0] + high[1] + low[1]).toBeCloseTo(f.score(p), 9);
    expect(high[1]).toBeGreaterThan(high[0] + low[0]);
  });

  for (const [d, shingleSize, trees] of [
    [1, 1, 7],
    [1, 4, 9],
    [3, 1, 8],
    [2, 3, 6],
  ] as const) {
    it(`attribution equals the score on every path (d=${d}, shingle ${shingleSize}, ${trees} trees)`, () => {
      // Tree counts that are not multiples of 4 cover the lockstep walk and the single-tree remainder; far
      // outliers (up to the float32 range) cover the rescaling of the attribution accumulator.
      const g = gaussian(lcg(40 + d * 10 + shingleSize));
      const f = new RandomCutForest(d, { shingleSize, numberOfTrees: trees, outputAfter: 32, seed: 3 });
      const high = new Float64Array(d);
      const low = new Float64Array(d);
      for (let i = 0; i < 600; i++) {
        const p = Array.from({ length: d }, (_, k) => 5 * Math.sin(i / 9 + k) + g());
        if (i % 50 === 49) p[i % d] = [40, -1e6, 1e30, -3e38, 3e38][((i / 50) % 5) | 0];
        const score = f.score(p);
        const returned = f.scoreWithAttribution(p, high, low);
        expect(returned).toBeCloseTo(score, 9);
        let sum = 0;
        for (let k = 0; k < d; k++) {
          expect(high[k]).toBeGreaterThanOrEqual(0);
          expect(low[k]).toBeGreaterThanOrEqual(0);
          sum += high[k] + low[k];
        }
        expect(Math.abs(sum - score)).toBeLessThanOrEqual(1e-9 * Math.max(1, score));
        f.update(p);
      }
    });
  }

  it("is deterministic for a seed and differs across seeds", () => {
    const run = (seed: number) => {
      const g = gaussian(lcg(77));
      const f = new RandomCutForest(3, { seed, numberOfTrees: 30 });
      const out: number[] = [];
      for (let i = 0; i < 800; i++) {
        const p = [g(), g(), g()];
        out.push(f.score(p));
        f.update(p);
      }
      return out;
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it("rejects NaN, ±Infinity and wrong dimensions with a typed error and leaves the forest unchanged", () => {
    const g = gaussian(lcg(1));
    const make = () => {
      const f = new RandomCutForest(2, { numberOfTrees: 20, seed: 3 });
      for (let i = 0; i < 400; i++) f.update([g(), g()]);
      return f;
    };
    const f = make();
    const probe = [0.5, 0.25];
    const before = f.score(probe);
    const updates = f.totalUpdates;
    for (const bad of [[NaN, 1], [1, Infinity], [-Infinity, 0], [1], [1, 2, 3], [1e39, 0]]) {
      expect(() => f.update(bad)).toThrow(InvalidPointError);
      expect(() => f.score(bad)).toThrow(ValidationError);
      expect(() => f.attribution(bad)).toThrow(InvalidPointError);
    }
    expect(() => f.update("12" as unknown as number[])).toThrow(InvalidPointError);
    expect(f.totalUpdates).toBe(updates);
    expect(f.score(probe)).toBe(before);
    try {
      f.update([NaN, 0]);
    } catch (error) {
      expect((error as InvalidPointError).code).toBe("INVALID_POINT");
      expect((error as Error).name).toBe("InvalidPointError");
    }
  });

  it("stays within 4 MB for a kda forest with 5 metrics once the point store is at its maximum", () => {
    const g = gaussian(lcg(4));
    const f = new RandomCutForest(5, { preset: "kda", timeDecay: 500 });
    for (let i = 0; i < 6000; i++) f.update([g(), g(), g(), g(), g()]);
    expect(f.bytes()).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(f.maxBytes()).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});
