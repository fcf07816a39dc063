import { describe, expect, it } from "vitest";
import { AnomalyDetector, type AnomalyDetectorOptions } from "../../src/rcf/index.ts";
import { gaussian, lcg } from "./helpers.ts";

/**
 * Fleet-shaped data (issue 8): several devices of one model, each at its own level, two metrics of different
 * scales, one shared detector with per-series normalisation (ADR 0305). Anomalies are sized in each series' σ.
 */
const DEVICES = 6;
const SIGMA = [0.5, 20];

function fleet(seed: number) {
  const noise = gaussian(lcg(seed));
  const levels = Array.from({ length: DEVICES }, (_, d) => [20 + 7 * d, 1000 + 300 * d]);
  return (d: number, offset: [number, number] = [0, 0]) => [
    levels[d][0] + SIGMA[0] * noise() + offset[0] * SIGMA[0],
    levels[d][1] + SIGMA[1] * noise() + offset[1] * SIGMA[1],
  ];
}

function warmed(seed: number, rounds = 700, options: AnomalyDetectorOptions = {}) {
  const detector = new AnomalyDetector(2, { forest: { seed }, normalize: true, ...options });
  const next = fleet(seed + 100);
  for (let r = 0; r < rounds; r++) for (let d = 0; d < DEVICES; d++) detector.process(next(d), `dev-${d}`);
  return { detector, next };
}

describe("per-series normalisation on a shared model", () => {
  // With the 3-point smoothing alone about half the spikes are caught on their own point (exploration in ADR 0305):
  // single-point spikes need the raw-score fast path (ADR 0304).
  it("with the fast path, catches 6σ single-point spikes on the spiked point, on devices at different levels", () => {
    let caught = 0;
    let spikes = 0;
    let falseAlarms = 0;
    for (const seed of [1, 2, 3]) {
      // The forest path of named series is off by default (ADR 0308); this exercises it.
      const { detector, next } = warmed(seed, 700, {
        thresholder: { rawTailRisk: 0.003 },
        normalize: { forestPath: true },
      });
      for (let r = 0; r < 400; r++) {
        for (let d = 0; d < DEVICES; d++) {
          const k = Math.floor(r / 50);
          const spiked = r % 50 === 25 && d === k % DEVICES;
          const metric = k % 2;
          const offset: [number, number] = spiked ? (metric === 0 ? [6, 0] : [0, -6]) : [0, 0];
          const result = detector.process(next(d, offset), `dev-${d}`);
          expect(result.calibrated).toBe(true);
          if (spiked) {
            spikes++;
            if (result.anomaly) caught++;
          } else if (result.newEpisode) falseAlarms++;
        }
      }
    }
    expect(spikes).toBe(24); // 8 per seed
    expect(caught).toBeGreaterThanOrEqual(22);
    expect(falseAlarms).toBeLessThanOrEqual(5);
  });

  it("catches a 4σ level shift within 60 of the device's readings (devices with wander and noise, as the simulator's)", () => {
    // σ = √(wander² + noise²) per metric, as the fleet benchmark sizes anomalies. On white noise alone (no wander) a
    // 4σ shift is only caught when its onset is also 4 residual σ from the short-term level (ADR 0306).
    const WANDER = [0.45, 18];
    const NOISE = [0.2, 8];
    const TAU = 300;
    const phi = Math.exp(-1 / TAU);
    for (const seed of [4, 5, 6]) {
      const detector = new AnomalyDetector(2, { forest: { seed }, normalize: true });
      const noise = gaussian(lcg(seed + 100));
      const wander = Array.from({ length: DEVICES }, () => [0, 0]);
      const next = (d: number, shift = 0) =>
        [0, 1].map((i) => {
          wander[d][i] = wander[d][i] * phi + WANDER[i] * Math.sqrt(1 - phi * phi) * noise();
          const sigma = Math.hypot(WANDER[i], NOISE[i]);
          return (
            (i === 0 ? 20 + 7 * d : 1000 + 300 * d) +
            wander[d][i] +
            NOISE[i] * noise() +
            (i === 0 ? shift * sigma : 0)
          );
        });
      for (let r = 0; r < 700; r++) for (let d = 0; d < DEVICES; d++) detector.process(next(d), `dev-${d}`);
      let delay = -1;
      for (let r = 0; r < 300 && delay < 0; r++) {
        for (let d = 0; d < DEVICES; d++) {
          const shifted = d === 2 && r >= 10;
          const result = detector.process(next(d, shifted ? 4 : 0), `dev-${d}`);
          if (shifted && result.anomaly && delay < 0) delay = r - 10;
        }
      }
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(60);
    }
  });

  it("gives the expected range of the culprit metric in its own units", () => {
    const { detector, next } = warmed(7);
    const point = next(3, [0, 8]);
    const result = detector.process(point, "dev-3");
    expect(result.anomaly).toBe(true);
    const range = result.expected?.[1];
    expect(range).toBeDefined();
    // Device 3's level is 1900 with σ 20: the range holds the level and not the spike.
    expect(range!.low).toBeLessThan(1900);
    expect(range!.high).toBeGreaterThan(1900);
    expect(point[1]).toBeGreaterThan(range!.high);
    expect(result.attribution[0].index).toBe(1);
    expect(result.attribution[0].direction).toBe("HIGH");
  });

  it("checkpoints the normaliser: a restored detector continues exactly", () => {
    const { detector, next } = warmed(8, 300);
    const restored = AnomalyDetector.fromCheckpoint(detector.toCheckpoint({ compress: true }));
    for (let r = 0; r < 50; r++) {
      for (let d = 0; d < DEVICES; d++) {
        const p = next(d);
        expect(restored.process(p, `dev-${d}`)).toEqual(detector.process(p, `dev-${d}`));
      }
    }
  });

  it("never grades a point inside its series' usual range (deviation gate, ADR 0305), and 8σ still alerts", () => {
    for (const seed of [11, 12]) {
      const { detector, next } = warmed(seed, 500);
      let episodes = 0;
      for (let r = 0; r < 500; r++) {
        for (let d = 0; d < DEVICES; d++) {
          // Within 3σ of the device's level on both metrics: noise clipped, never gated through.
          const p = next(d).map((v, i) => {
            const level = i === 0 ? 20 + 7 * d : 1000 + 300 * d;
            return Math.min(level + 3 * SIGMA[i], Math.max(level - 3 * SIGMA[i], v));
          });
          if (detector.process(p, `dev-${d}`).anomaly) episodes++;
        }
      }
      expect(episodes).toBe(0);
      expect(detector.process(next(1, [8, 0]), "dev-1").anomaly).toBe(true);
    }
  });

  it("leaves the unnamed series (NAB, nab-score) unnormalised: same scores as normalize: false", () => {
    const a = new AnomalyDetector(1, { forest: { seed: 3 } });
    const b = new AnomalyDetector(1, { forest: { seed: 3 }, normalize: false });
    const noise = gaussian(lcg(4));
    for (let i = 0; i < 600; i++) {
      const p = [50 + 5 * Math.sin(i / 20) + noise()];
      expect(a.process(p).score).toBe(b.process(p).score);
    }
  });

  it("neither learns nor grades a new device until its baseline is known", () => {
    const { detector, next } = warmed(9, 400);
    const first = detector.process([5000, -5000], "dev-new");
    expect(first.score).toBe(0);
    expect(first.anomaly).toBe(false);
    expect(first.calibrated).toBe(false);
    expect(detector.process(next(0), "dev-0").calibrated).toBe(true);
  });
});
