import { describe, expect, it } from "vitest";
import { RandomCutForest, type ForestOptionsInput } from "../../src/rcf/index.ts";
import { lcg } from "./helpers.ts";

/**
 * Pins the exact output of a fixed-seed stream: every score and attribution, bit for bit (FNV-1a over their
 * float64 words). Hot-path changes to the forest (ADR 0300) must leave these digests unchanged; a change of
 * semantics must update them on purpose and say so.
 */
function digest(dimensions: number, options: ForestOptionsInput, n: number) {
  const rand = lcg(4242 + dimensions);
  const f = new RandomCutForest(dimensions, { ...options, seed: 7 });
  const high = new Float64Array(dimensions);
  const low = new Float64Array(dimensions);
  const word = new Float64Array(1);
  const words = new Uint32Array(word.buffer);
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    word[0] = x;
    for (let j = 0; j < 2; j++) {
      h ^= words[j];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  let scored = 0;
  for (let i = 0; i < n; i++) {
    const p: number[] = [];
    for (let k = 0; k < dimensions; k++) {
      p.push(10 * Math.sin(i / 25 + k) + 2 * rand() + (rand() < 0.01 ? 15 : 0) + (i % 97 === 0 ? 3 : 0));
    }
    const s = f.score(p);
    const sa = f.scoreWithAttribution(p, high, low);
    mix(s);
    mix(sa);
    for (let k = 0; k < dimensions; k++) {
      mix(high[k]);
      mix(low[k]);
    }
    if (s > 0) scored++;
    f.update(p);
  }
  return { digest: h.toString(16), scored };
}

describe("RandomCutForest exact output (fixed seed)", () => {
  it.each([
    ["d=1 kda", 1, { preset: "kda" }, "3014ac46", 944],
    ["d=5 kda", 5, { preset: "kda" }, "3841de7", 944],
    // First score at input point 256 (outputAfter counts input points, shingled or not).
    ["1 metric × shingle 8 kda", 1, { preset: "kda", shingleSize: 8 }, "ef1beef", 944],
    ["d=3 library", 3, { preset: "library", numberOfTrees: 30 }, "15a18a26", 1136],
  ] as const)("%s gives the pinned scores and attributions", (_name, d, options, expected, scored) => {
    expect(digest(d, options, 1200)).toEqual({ digest: expected, scored });
  });
});
