import { AnomalyDetector } from "../../src/rcf/index.ts";
import type { NormalizerOptions } from "../../src/rcf/series-normalizer.ts";
import { gaussian, lcg } from "./helpers.ts";

/**
 * Fleet-shaped data for the local statistics' tests (ADR 0309, 0310): `FAN_DEVICES` fans of one model at their own
 * levels, `FREQ` with wander σ 0.6 (τ = 60 points), noise σ 0.3, published in whole Hz — where a 4σ level shift is
 * only ≈ 4.5–5 residual σ at its onset. Anomalies are sized in σ = √(wander² + noise²).
 */
export const FAN_DEVICES = 6;
export const FAN_WANDER = 0.6;
export const FAN_NOISE = 0.3;
export const FAN_SIGMA = Math.hypot(FAN_WANDER, FAN_NOISE);
/** Per-point decay of the wander (τ = 60 points). */
export const FAN_PHI = Math.exp(-1 / 60);

/** The fans' next reading: `next(device, offsetInSigma)`. */
export function fans(seed: number) {
  const noise = gaussian(lcg(seed));
  const wander = new Array<number>(FAN_DEVICES).fill(0);
  return (d: number, offset = 0) => {
    wander[d] = wander[d] * FAN_PHI + FAN_WANDER * Math.sqrt(1 - FAN_PHI * FAN_PHI) * noise();
    return [Math.round(40 + 3 * d + wander[d] + FAN_NOISE * noise() + offset * FAN_SIGMA)];
  };
}

/**
 * 4σ shifts caught within 60 readings, and episodes started on healthy points, over three forest seeds: each device
 * gets a shift from its own start point, 300 points long, then 900 healthy points; the sign alternates. Healthy
 * means not in a shift nor within 60 points of its end (the step back is a shift too).
 */
export function fanShifts(normalize: Partial<NormalizerOptions>) {
  let within60 = 0;
  let injected = 0;
  let falseEpisodes = 0;
  for (const seed of [31, 32, 33]) {
    const detector = new AnomalyDetector(1, { forest: { seed }, normalize });
    const next = fans(seed + 50);
    for (let r = 0; r < 800; r++) for (let d = 0; d < FAN_DEVICES; d++) detector.process(next(d), `fan-${d}`);
    const caught = new Array<boolean>(FAN_DEVICES).fill(false);
    for (let r = 0; r < 2400; r++) {
      for (let d = 0; d < FAN_DEVICES; d++) {
        const phase = (r + 200 * d) % 1200;
        const inShift = phase < 300;
        const sign = (Math.floor((r + 200 * d) / 1200) + d) % 2 === 0 ? 1 : -1;
        if (phase === 0) {
          injected++;
          caught[d] = false;
        }
        const result = detector.process(next(d, inShift ? 4 * sign : 0), `fan-${d}`);
        if (inShift && phase <= 60 && result.anomaly && !caught[d]) {
          caught[d] = true;
          within60++;
        }
        if (!inShift && phase > 360 && result.newEpisode) falseEpisodes++;
      }
    }
  }
  return { within60, injected, falseEpisodes };
}
