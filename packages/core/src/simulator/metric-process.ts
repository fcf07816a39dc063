import type { Prng } from "./prng.ts";

const DAY_MS = 86_400_000;

/**
 * How one measured quantity behaves when nothing is wrong: a level, a smooth daily cycle, slow correlated
 * wander (an Ornstein–Uhlenbeck process, so its spread does not depend on the publishing rate) and white
 * measurement noise, kept inside physical bounds. Values of a healthy device therefore look like a steady,
 * slightly noisy daily rhythm: what the Random Cut Forest should learn as normal.
 */
export interface MetricModel {
  /** Mean level. */
  base: number;
  /** Half the peak-to-trough swing of the daily cycle (0: none). */
  dailyAmplitude: number;
  /** UTC hour (0–24) at which the daily cycle peaks. */
  peakHourUtc: number;
  /** Stationary standard deviation of the slow wander. */
  wanderSigma: number;
  /** Correlation time of the wander, seconds. */
  wanderTauSeconds: number;
  /** Standard deviation of independent measurement noise. */
  noiseSigma: number;
  /** Physical bounds; values (also anomalous ones) are clamped into them. */
  min: number;
  max: number;
  /** Decimal places of the published value; omitted = full double precision (as the weather seed). */
  decimals?: number;
}

/** The typical size of normal fluctuations around the daily cycle: the unit anomaly magnitudes are given in. */
export function fluctuationScale(model: MetricModel): number {
  return Math.sqrt(model.wanderSigma ** 2 + model.noiseSigma ** 2);
}

/** The noise-free daily level at `tMs`. */
export function dailyLevel(model: MetricModel, tMs: number): number {
  const hour = (((tMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  return model.base + model.dailyAmplitude * Math.cos((2 * Math.PI * (hour - model.peakHourUtc)) / 24);
}

export function clampToModel(model: MetricModel, value: number): number {
  return Math.min(model.max, Math.max(model.min, value));
}

export function roundToModel(model: MetricModel, value: number): number {
  if (model.decimals === undefined) return value;
  const factor = 10 ** model.decimals;
  return Math.round(value * factor) / factor;
}

/** A stateful sampler of one metric; call `sample` with non-decreasing times. */
export interface MetricProcess {
  readonly model: MetricModel;
  /** The healthy value at `tMs` (clamped, not rounded). */
  sample(tMs: number): number;
}

export function createMetricProcess(model: MetricModel, prng: Prng): MetricProcess {
  let wander: number | undefined;
  let lastT: number | undefined;
  return {
    model,
    sample(tMs) {
      if (wander === undefined || lastT === undefined) {
        wander = prng.normal() * model.wanderSigma;
      } else {
        const dtSeconds = Math.max(0, tMs - lastT) / 1000;
        const phi = model.wanderTauSeconds > 0 ? Math.exp(-dtSeconds / model.wanderTauSeconds) : 0;
        wander = wander * phi + model.wanderSigma * Math.sqrt(1 - phi * phi) * prng.normal();
      }
      lastT = tMs;
      const value = dailyLevel(model, tMs) + wander + model.noiseSigma * prng.normal();
      return clampToModel(model, value);
    },
  };
}
