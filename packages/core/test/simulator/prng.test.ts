import { describe, expect, it } from "vitest";
import { createPrng, hashSeed } from "../../src/simulator/prng.ts";

describe("createPrng", () => {
  it("repeats its sequence for the same seed and differs for another", () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const seqA = Array.from({ length: 100 }, () => a.next());
    const seqB = Array.from({ length: 100 }, () => b.next());
    const seqC = Array.from({ length: 100 }, () => c.next());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it("draws uniforms in [0, 1) and integers within inclusive bounds", () => {
    const prng = createPrng(7);
    const counts = new Map<number, number>();
    let min = 1;
    let max = 0;
    for (let i = 0; i < 60_000; i++) {
      const u = prng.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      const n = prng.int(1, 6);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect([...counts.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const count of counts.values()) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it("draws standard normals (mean 0, sd 1) with a fixed seed", () => {
    const prng = createPrng(2024);
    const n = 50_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const z = prng.normal();
      sum += z;
      sumSq += z * z;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sumSq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(sd - 1)).toBeLessThan(0.02);
  });

  it("rejects a non-finite seed and an empty pick", () => {
    expect(() => createPrng(Number.NaN)).toThrow(RangeError);
    expect(() => createPrng(1).pick([])).toThrow(RangeError);
  });
});

describe("hashSeed", () => {
  it("is stable and separates labels", () => {
    expect(hashSeed(1, "device8401", "values")).toBe(hashSeed(1, "device8401", "values"));
    const seeds = new Set<number>();
    for (let i = 0; i < 10_000; i++) seeds.add(hashSeed(1, `device${i}`, "values"));
    expect(seeds.size).toBe(10_000);
    // Joining with a separator: ("ab", "c") and ("a", "bc") are different streams.
    expect(hashSeed("ab", "c")).not.toBe(hashSeed("a", "bc"));
  });
});
