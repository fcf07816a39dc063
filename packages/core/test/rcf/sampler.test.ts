import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextOpenUnit, seedRng } from "../../src/rcf/random.ts";
import { TimeDecaySampler } from "../../src/rcf/sampler.ts";

function run(capacity: number, n: number, lambda: number, seed: number): number[] {
  const rng = new Int32Array(4);
  seedRng(rng, 0, seed, 0);
  const s = new TimeDecaySampler(capacity);
  for (let t = 0; t < n; t++) {
    const key = TimeDecaySampler.key(nextOpenUnit(rng, 0), lambda, t);
    if (!s.accepts(key)) continue;
    if (s.isFull) s.evictMax();
    s.push(key, t);
  }
  return Array.from(s.leaves.subarray(0, s.size));
}

describe("TimeDecaySampler", () => {
  it("keeps the smallest keys and always evicts the largest", () => {
    const s = new TimeDecaySampler(4);
    for (const [k, id] of [
      [5, 0],
      [1, 1],
      [3, 2],
      [4, 3],
    ] as const)
      s.push(k, id);
    expect(s.accepts(6)).toBe(false);
    expect(s.accepts(2)).toBe(true);
    expect(s.evictMax()).toBe(0);
    s.push(2, 4);
    expect(s.evictMax()).toBe(3);
    expect(s.evictMax()).toBe(2);
    expect(s.evictMax()).toBe(4);
    expect(s.evictMax()).toBe(1);
    expect(s.size).toBe(0);
  });

  it("without decay is a uniform reservoir: every position is kept with probability capacity/n", () => {
    const capacity = 16;
    const n = 160;
    const counts = new Float64Array(n);
    const runs = 3000;
    for (let r = 0; r < runs; r++) for (const t of run(capacity, n, 0, r + 1)) counts[t]++;
    const expected = (runs * capacity) / n; // 300
    // Each count is Binomial(3000, 0.1): sd ≈ 16.4; allow 5 sd.
    for (let t = 0; t < n; t++) expect(Math.abs(counts[t] - expected)).toBeLessThan(5 * 16.5);
    // First and second halves are equally represented.
    const first = counts.slice(0, n / 2).reduce((a, b) => a + b, 0);
    const second = counts.slice(n / 2).reduce((a, b) => a + b, 0);
    expect(Math.abs(first - second) / (first + second)).toBeLessThan(0.03);
  });

  it("with decay favours recent points: weights grow as e^(λt)", () => {
    const capacity = 32;
    const n = 4000;
    const lambda = 1 / 320;
    let recent = 0;
    let old = 0;
    for (let r = 0; r < 200; r++) {
      for (const t of run(capacity, n, lambda, 1000 + r)) {
        if (t >= n - 320) recent++;
        else if (t < n - 640) old++;
      }
    }
    // Mass of the last 1/λ points: (1 - e^-1) ≈ 63 % of the sample; beyond 2/λ: e^-2 ≈ 13.5 %.
    const total = 200 * capacity;
    expect(recent / total).toBeGreaterThan(0.55);
    expect(recent / total).toBeLessThan(0.72);
    expect(old / total).toBeGreaterThan(0.08);
    expect(old / total).toBeLessThan(0.2);
  });

  it("push returns the heap slot of the new entry, where its leaf can be set later (the forest's update)", () => {
    const rng = new Int32Array(4);
    seedRng(rng, 0, 3, 0);
    const s = new TimeDecaySampler(16);
    for (let t = 0; t < 200; t++) {
      const key = TimeDecaySampler.key(nextOpenUnit(rng, 0), 0.01, t);
      if (!s.accepts(key)) continue;
      if (s.isFull) s.evictMax();
      const slot = s.push(key, -1);
      expect(s.keys[slot]).toBe(key);
      expect(s.leaves[slot]).toBe(-1);
      s.leaves[slot] = t;
    }
    expect(Array.from(s.leaves.subarray(0, s.size)).every((leaf) => leaf >= 0)).toBe(true);
    for (let i = 1; i < s.size; i++) expect(s.keys[(i - 1) >> 1]).toBeGreaterThanOrEqual(s.keys[i]);
  });

  it("heapify restores the max-heap order from arbitrary entries", () => {
    const s = new TimeDecaySampler(8);
    const keys = [0.3, -2, 7, 1.5, 4, -1, 2.5, 6];
    keys.forEach((k, i) => {
      s.keys[i] = k;
      s.leaves[i] = i;
    });
    s.size = keys.length;
    s.heapify();
    const order: number[] = [];
    while (s.size > 0) order.push(s.keys[0] === undefined ? NaN : keys[s.evictMax()]);
    expect(order).toEqual([...keys].sort((a, b) => b - a));
  });

  it("refuses by its cached bound only draws that the exact key test refuses, at every later index", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -6, max: 3, noNaN: true }),
        fc.constantFrom(0, 1e-5, 1 / 2560, 0.01),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 256 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (maxKeyAtZero, lambda, from, span, position) => {
          // A max key as the sampler would hold it at sequence index `from` (keys drift by −λ·t).
          const maxKey = maxKeyAtZero - lambda * from;
          const bound = TimeDecaySampler.refusalBound(maxKey, lambda, from + span);
          if (!(bound > 0)) return;
          // Draws just below the bound and anywhere below it.
          for (const u of [bound * (1 - 1e-15), bound * position, Math.max(bound / 2, 1e-300)]) {
            if (!(u > 0 && u < bound)) continue;
            for (const t of [from, from + Math.floor(span / 2), from + span]) {
              expect(TimeDecaySampler.key(u, lambda, t)).toBeGreaterThanOrEqual(maxKey);
            }
          }
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });
});
