import { describe, expect, it } from "vitest";
import { RandomCutForest } from "../../src/rcf/index.ts";
import { lcg } from "./helpers.ts";

/**
 * `treeInsertions` counts the tree insertions `update` does: what makes a young forest slower per point than an
 * old one (bench/scoring.ts compares many young models against one old model, docs/benchmarks/scoring.md).
 */
describe("RandomCutForest.treeInsertions", () => {
  it("inserts every point into every tree until the samples are full, then into ≈ trees × sampleSize / age", () => {
    const trees = 20;
    const sampleSize = 32;
    const rand = lcg(99);
    const f = new RandomCutForest(2, {
      numberOfTrees: trees,
      sampleSize,
      timeDecay: 0,
      outputAfter: 1,
      seed: 3,
    });
    for (let i = 0; i < sampleSize; i++) f.update([rand(), rand()]);
    expect(f.treeInsertions).toBe(trees * sampleSize);
    // A plain reservoir (no decay) keeps point t with probability sampleSize / t: over points 33..2000 that is
    // Σ 32/t ≈ 32 · ln(2000/32) ≈ 132 insertions per tree.
    for (let i = sampleSize; i < 2000; i++) f.update([rand(), rand()]);
    const later = f.treeInsertions - trees * sampleSize;
    const expected = trees * sampleSize * Math.log(2000 / sampleSize);
    expect(later).toBeGreaterThan(0.8 * expected);
    expect(later).toBeLessThan(1.2 * expected);
    const before = f.treeInsertions;
    for (let i = 0; i < 100; i++) f.update([rand(), rand()]);
    // At age ≈ 2000 a point enters ≈ 20 × 32 / 2000 = 0.32 trees on average: far fewer than the young forest's 20.
    expect((f.treeInsertions - before) / 100).toBeLessThan(2);
  });
});
