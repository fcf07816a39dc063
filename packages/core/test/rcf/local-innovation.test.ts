import { describe, expect, it } from "vitest";
import { AnomalyDetector } from "../../src/rcf/index.ts";
import {
  INNOVATION_ADAPT,
  INNOVATION_MEAN_FACTOR,
  INNOVATION_MEAN_WARMUP,
  INNOVATION_WARMUP,
} from "../../src/rcf/innovation-path.ts";
import {
  defaultNormalizerOptions,
  normalizerOptionsSchema,
  SeriesNormalizer,
  type NormalizerOptions,
} from "../../src/rcf/series-normalizer.ts";
import { FAN_NOISE, FAN_PHI, FAN_WANDER, fans, fanShifts } from "./fan-shifts.ts";
import { gaussian, lcg, olderNormalizerCheckpoint } from "./helpers.ts";

/**
 * The innovation path (ADR 0310) on fleet-shaped data: fans of one model at their own levels, `FREQ` with wander
 * σ 0.6 (τ = 60 points), noise σ 0.3, published in whole Hz; anomalies in σ = √(wander² + noise²) (`fan-shifts.ts`).
 */
const OFF: Partial<NormalizerOptions> = { innovationMean: 0, innovationSingle: false };

/** A detector whose fan-0 series has passed the innovation path's warm-ups. */
function warmedFan() {
  const detector = new AnomalyDetector(1, { forest: { seed: 5 } });
  const next = fans(77);
  for (let r = 0; r < INNOVATION_MEAN_WARMUP + 50; r++) detector.process(next(0), "fan-0");
  expect(detector.normalizer!.lastInnovation[0]).not.toBe(0);
  return { detector, next };
}

/** The gain learned on `n` points of a generated series. */
function learnedGain(value: (r: number) => number, n = 6000): number {
  const norm = new SeriesNormalizer(1, defaultNormalizerOptions, 10);
  const out = new Float64Array(1);
  for (let r = 0; r < n; r++) norm.apply([value(r)], "s", out);
  return norm.innovationGain("s", 0)!;
}

describe("innovation path: a learned-gain level and the EW mean of its innovations (ADR 0310)", () => {
  it("catches more 4σ level shifts of a quantised, wandering metric within 60 readings, with no false episode", () => {
    const off = fanShifts(OFF);
    const on = fanShifts({});
    expect(on.injected).toBe(off.injected);
    // Measured (seeds 31–33): 22 of 36 with the sustained path alone (ADR 0309), 33 of 36 with the innovation path.
    expect(on.within60).toBeGreaterThan(off.within60);
    expect(on.within60).toBeGreaterThanOrEqual(30);
    expect(on.falseEpisodes).toBe(0);
    expect(off.falseEpisodes).toBe(0);
  }, 180_000);

  it("learns each series' own gain: near the Kalman gain for wander + noise, low for white noise, high for a walk", () => {
    const noise = gaussian(lcg(11));
    let w = 0;
    // Fan FREQ: steady-state Kalman gain of a local level with q = 0.6²(1 − φ²), r = 0.3² + 1/12 is ≈ 0.23.
    const fan = learnedGain(() => {
      w = w * FAN_PHI + FAN_WANDER * Math.sqrt(1 - FAN_PHI * FAN_PHI) * noise();
      return Math.round(40 + w + FAN_NOISE * noise());
    });
    expect(fan).toBeGreaterThan(0.15);
    expect(fan).toBeLessThan(0.35);
    // White noise around a constant: the best level is a long mean.
    expect(learnedGain(() => 10 + noise())).toBeLessThan(0.05);
    // A random walk with little noise: the best level is the last value.
    let walk = 0;
    expect(
      learnedGain(() => {
        walk += noise();
        return 100 + walk + 0.05 * noise();
      }),
    ).toBeGreaterThan(0.7);
  });

  it("is on by default, and an options header without it (older checkpoints) gets the default", () => {
    expect(defaultNormalizerOptions.innovationAdapt).toBe(INNOVATION_ADAPT);
    expect(defaultNormalizerOptions.innovationMean).toBe(INNOVATION_MEAN_FACTOR);
    expect(defaultNormalizerOptions.innovationSingle).toBe(true);
    const parsed = normalizerOptionsSchema.parse({
      horizon: 1000,
      warmup: 30,
      clip: 5,
      sustainedWeights: [0.2],
    });
    expect(parsed.innovationAdapt).toBe(INNOVATION_ADAPT);
    expect(parsed.innovationMean).toBe(INNOVATION_MEAN_FACTOR);
    expect(parsed.innovationSingle).toBe(true);
  });

  it("a restore continues it exactly (checkpoint format 8; 9 since ADR 0311)", () => {
    const { detector, next } = warmedFan();
    const restored = AnomalyDetector.fromCheckpoint(detector.toCheckpoint({ compress: true }));
    for (let r = 0; r < 50; r++) {
      const p = next(0, r === 30 ? 3 : 0);
      expect(restored.process(p, "fan-0")).toEqual(detector.process(p, "fan-0"));
      expect(restored.normalizer!.lastInnovation[0]).toBe(detector.normalizer!.lastInnovation[0]);
    }
    expect(restored.normalizer!.innovationGain("fan-0", 0)).toBe(
      detector.normalizer!.innovationGain("fan-0", 0),
    );
    expect(restored.toCheckpoint()).toEqual(detector.toCheckpoint());
  });

  it("reads a format-7 checkpoint (no innovation state): keeps the rest, learns the innovation path again", () => {
    const { detector, next } = warmedFan();
    const v7 = olderNormalizerCheckpoint(detector, 7, (w, st) => {
      w.varint(st.count);
      w.varint(st.localCount);
      w.varint(st.sustainedCount);
      w.f64(st.mean[0]);
      w.f64(st.variance[0]);
      w.f64(st.level[0]);
      w.f64(st.residual[0]);
      for (let j = 0; j < st.sustained.length; j++) {
        w.f64(st.sustained[j]);
        w.f64(st.sustainedVar[j]);
      }
    });
    const restored = AnomalyDetector.fromCheckpoint(v7);
    expect(restored.normalizer!.innovationGain("fan-0", 0)).toBeUndefined();
    const p = next(0);
    const a = detector.process(p, "fan-0");
    const b = restored.process(p, "fan-0");
    expect(b.score).toBe(a.score);
    expect(restored.normalizer!.lastLocal[0]).toBe(detector.normalizer!.lastLocal[0]);
    expect(restored.normalizer!.lastSustained[0]).toBe(detector.normalizer!.lastSustained[0]);
    expect(restored.normalizer!.lastInnovation[0]).toBe(0);
    let back = -1;
    for (let r = 1; r <= INNOVATION_WARMUP + 1 && back < 0; r++) {
      restored.process(next(0), "fan-0");
      if (restored.normalizer!.lastInnovation[0] !== 0) back = r;
    }
    expect(back).toBe(INNOVATION_WARMUP);
  });

  it("off leaves the local statistic exactly as the ADR 0309 paths", () => {
    const on = new SeriesNormalizer(1, defaultNormalizerOptions, 10);
    const off = new SeriesNormalizer(1, { ...defaultNormalizerOptions, ...OFF }, 10);
    const next = fans(9);
    const out = new Float64Array(1);
    for (let r = 0; r < 1000; r++) {
      const p = next(0);
      on.apply(p, "a", out);
      off.apply(p, "a", out);
      expect(off.lastInnovation[0]).toBe(0);
      expect(on.lastLocal[0]).toBe(off.lastLocal[0]);
      expect(on.lastSustained[0]).toBe(off.lastSustained[0]);
      expect(on.lastLocalDeviation).toBeGreaterThanOrEqual(off.lastLocalDeviation);
    }
    expect(off.innovationGain("a", 0)).toBeUndefined();
  });
});
