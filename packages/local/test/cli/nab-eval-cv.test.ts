import { scoreCorpus, type NabSeries } from "@driftwatch/core/nab/index";
import { describe, expect, it } from "vitest";
import { CV_GRID, crossValidate } from "../../src/cli/commands/nab-eval.ts";
import { nabScores } from "../../src/cli/commands/nab-score.ts";

/** A seeded noisy sine with one large spike at `spikeAt`, labelled with a 60-row window around it. */
function series(name: string, seed: number, spikeAt: number) {
  let state = seed;
  const noise = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  const start = Date.UTC(2026, 0, 1);
  const rows = Array.from({ length: 700 }, (_, i) => ({
    time: start + i * 300_000,
    value: 50 + 10 * Math.sin(i / 20) + 2 * noise() + (i === spikeAt ? 80 : 0),
  }));
  const windows: [number, number][] = [[rows[spikeAt - 30].time, rows[spikeAt + 30].time]];
  return { name, rows, windows };
}

describe("nab-eval --cv (leave-one-category-out)", () => {
  const corpus = [
    series("catA/one.csv", 1, 480),
    series("catA/two.csv", 2, 560),
    series("catB/three.csv", 3, 520),
    series("catB/four.csv", 4, 620),
  ];

  it("reports every grid setting alone (plain and CV) and a fold choice per held-out category", () => {
    const cv = crossValidate(corpus);
    expect(cv.candidates.map((c) => c.name)).toEqual(CV_GRID.map((g) => g.name));
    expect(cv.folds.map((f) => f.category)).toEqual(["catA", "catB"]);
    for (const f of cv.folds) expect(CV_GRID.map((g) => g.name)).toContain(f.chosen);
    // The default setting alone, scored plainly, is the detector nab-eval reports.
    const plain: NabSeries[] = corpus.map((s) => ({
      name: s.name,
      times: s.rows.map((r) => r.time),
      scores: nabScores(s.rows.map((r) => r.value)),
      windows: s.windows,
    }));
    const standard = scoreCorpus(plain, "standard");
    expect(cv.candidates[0].plain.standard).toBeCloseTo(standard.normalized, 10);
    expect(cv.plain.standard).toBeCloseTo(standard.normalized, 10);
    // Every spike is caught by the defaults, and a threshold chosen on the other category still catches it.
    expect(standard.fn).toBe(0);
    expect(cv.candidates[0].cv.standard).toBeGreaterThan(0);
    for (const c of cv.candidates)
      for (const p of ["standard", "reward_low_FP_rate", "reward_low_FN_rate"] as const) {
        expect(Number.isFinite(c.plain[p]) && c.plain[p] <= 100).toBe(true);
        expect(Number.isFinite(c.cv[p]) && c.cv[p] <= 100).toBe(true);
      }
  });
});
