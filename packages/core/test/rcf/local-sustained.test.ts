import { describe, expect, it } from "vitest";
import { AnomalyDetector } from "../../src/rcf/index.ts";
import {
  LOCAL_WARMUP,
  normalizerOptionsSchema,
  SeriesNormalizer,
  defaultNormalizerOptions,
  SUSTAINED_WARMUP,
  SUSTAINED_WEIGHT,
} from "../../src/rcf/series-normalizer.ts";
import { fans, fanShifts } from "./fan-shifts.ts";
import { olderNormalizerCheckpoint } from "./helpers.ts";

/**
 * The sustained path (ADR 0309) on fleet-shaped data: devices of one model at their own levels, a fan's `FREQ`
 * (wander σ 0.6 with τ = 60 points, noise σ 0.3, published in whole Hz), where a 4σ level shift is only ≈ 4.5–5
 * residual σ at its onset, under the single-reading bar of 6. Anomalies in σ = √(wander² + noise²) (`fan-shifts.ts`).
 */

/** A detector whose fan-0 series has just passed both warm-ups (the sustained path is graded from here on). */
function warmedFan() {
  const detector = new AnomalyDetector(1, { forest: { seed: 5 } });
  const next = fans(77);
  const n = detector.normalizer!;
  let firstSustained = -1;
  for (let r = 0; r < LOCAL_WARMUP + SUSTAINED_WARMUP + 50; r++) {
    detector.process(next(0), "fan-0");
    if (firstSustained < 0 && n.lastSustained[0] !== 0) firstSustained = r;
  }
  expect(firstSustained).toBe(LOCAL_WARMUP + SUSTAINED_WARMUP);
  return { detector, next };
}

describe("sustained path: an EW mean of the residuals in its own σ (ADR 0309)", () => {
  it("catches more 4σ level shifts of a quantised, fast-wandering metric within 60 readings, with no false episode", () => {
    const off = fanShifts({ sustainedWeights: [], innovationMean: 0, innovationSingle: false });
    const on = fanShifts({
      sustainedWeights: [SUSTAINED_WEIGHT],
      innovationMean: 0,
      innovationSingle: false,
    });
    expect(on.injected).toBe(off.injected);
    expect(on.within60).toBeGreaterThan(off.within60);
    // Measured (seeds 31–33): 14 of 36 without the sustained path, 22 of 36 with it.
    expect(on.within60).toBeGreaterThanOrEqual(20);
    expect(on.falseEpisodes).toBe(0);
    expect(off.falseEpisodes).toBe(0);
  }, 180_000);

  it("is on by default, and an options header without it (older checkpoints) gets the default", () => {
    expect(defaultNormalizerOptions.sustainedWeights).toEqual([SUSTAINED_WEIGHT]);
    const parsed = normalizerOptionsSchema.parse({ horizon: 1000, warmup: 30, clip: 5, spikeDeviation: 6 });
    expect(parsed.sustainedWeights).toEqual([SUSTAINED_WEIGHT]);
  });

  it("grades nothing before its own σ is learned; a restore continues it exactly (checkpoint format 7)", () => {
    const { detector, next } = warmedFan();
    const restored = AnomalyDetector.fromCheckpoint(detector.toCheckpoint({ compress: true }));
    for (let r = 0; r < 50; r++) {
      const p = next(0, r === 30 ? 3 : 0);
      expect(restored.process(p, "fan-0")).toEqual(detector.process(p, "fan-0"));
      expect(restored.normalizer!.lastSustained[0]).toBe(detector.normalizer!.lastSustained[0]);
    }
    expect(detector.normalizer!.lastSustained[0]).not.toBe(0);
    expect(restored.toCheckpoint()).toEqual(detector.toCheckpoint());
  });

  it("reads a format-6 checkpoint (no sustained statistics): learns the sustained path again, keeps the rest", () => {
    const { detector, next } = warmedFan();
    // The normaliser section in the format-6 layout (no sustained count and means).
    const v6 = olderNormalizerCheckpoint(detector, 6, (w, st) => {
      w.varint(st.count);
      w.varint(st.localCount);
      w.f64(st.mean[0]);
      w.f64(st.variance[0]);
      w.f64(st.level[0]);
      w.f64(st.residual[0]);
    });
    const restored = AnomalyDetector.fromCheckpoint(v6);
    const p = next(0);
    const a = detector.process(p, "fan-0");
    const b = restored.process(p, "fan-0");
    expect(b.score).toBe(a.score);
    expect(detector.normalizer!.lastSustained[0]).not.toBe(0);
    expect(restored.normalizer!.lastSustained[0]).toBe(0);
    // The restored series keeps its single-reading local path meanwhile, and learns the sustained one again.
    expect(restored.normalizer!.lastLocal[0]).toBe(detector.normalizer!.lastLocal[0]);
    let back = -1;
    for (let r = 1; r <= SUSTAINED_WARMUP + 1 && back < 0; r++) {
      restored.process(next(0), "fan-0");
      if (restored.normalizer!.lastSustained[0] !== 0) back = r;
    }
    expect(back).toBe(SUSTAINED_WARMUP);
  });

  it("off (`sustainedWeights: []`) leaves the local statistic exactly as the single-reading path", () => {
    const opts = { ...defaultNormalizerOptions };
    const on = new SeriesNormalizer(1, opts, 10);
    const off = new SeriesNormalizer(1, { ...opts, sustainedWeights: [] }, 10);
    const next = fans(9);
    const out = new Float64Array(1);
    for (let r = 0; r < 1000; r++) {
      const p = next(0);
      on.apply(p, "a", out);
      off.apply(p, "a", out);
      expect(off.lastSustained[0]).toBe(0);
      expect(on.lastLocal[0]).toBe(off.lastLocal[0]);
      expect(on.lastLocalDeviation).toBeGreaterThanOrEqual(off.lastLocalDeviation);
    }
  });
});
