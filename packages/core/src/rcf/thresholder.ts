import { z } from "zod";
import { InvalidForestOptionsError } from "./errors.ts";

/** Static bounds of one metric (from the thresholds configuration); a value outside is always anomalous. */
export interface MetricBounds {
  min?: number;
  max?: number;
}

/**
 * Adaptive decisions on a stream of RCF scores. The thresholder keeps a discounted mean and deviation of recent
 * scores; a point is anomalous when the average of the last `smoothing` scores sits more than `zFactor`
 * deviations above that mean and above `absoluteFloor` (inliers score near 1), after `warmup` scored points.
 * After an anomaly, further score-based anomalies are suppressed for `suppression` points (one alert per
 * episode); static metric bounds are checked on every point and are never suppressed.
 */
export interface ThresholderOptions {
  /** Deviations above the recent mean for an anomaly. */
  zFactor: number;
  /** Smoothed scores at or below this are never anomalous. */
  absoluteFloor: number;
  /** Scored points (score > 0) before any score-based decision. */
  warmup: number;
  /** Per-point decay of the score statistics (0.9998 ⇒ a horizon of about 5000 points). */
  discount: number;
  /** Number of most recent scores averaged before comparing (1 = the score itself). */
  smoothing: number;
  /** Points after an anomaly during which further score-based anomalies are not raised. */
  suppression: number;
  /** Scores feed the statistics clipped to mean + clip × deviation, so anomalies do not inflate them. */
  clip: number;
  /** Lower bound of the deviation as a fraction of the mean (constant streams). */
  minDeviation: number;
  /** Optional static bounds per metric index. */
  bounds: (MetricBounds | null)[];
}

export const thresholderOptionsSchema = z
  .object({
    zFactor: z.number().positive().finite(),
    absoluteFloor: z.number().min(0).finite(),
    warmup: z.number().int().min(0),
    discount: z.number().gt(0).max(1),
    smoothing: z.number().int().min(1).max(1000),
    suppression: z.number().int().min(0),
    clip: z.number().positive(),
    minDeviation: z.number().min(0).finite(),
    bounds: z.array(z.object({ min: z.number().optional(), max: z.number().optional() }).strict().nullable()),
  })
  .strict();

export const defaultThresholderOptions: ThresholderOptions = {
  zFactor: 4,
  absoluteFloor: 1.3,
  warmup: 100,
  discount: 0.9998,
  smoothing: 3,
  suppression: 150,
  clip: 5,
  minDeviation: 0.01,
  bounds: [],
};

export function resolveThresholderOptions(input: Partial<ThresholderOptions> = {}): ThresholderOptions {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = thresholderOptionsSchema.safeParse({ ...defaultThresholderOptions, ...defined });
  if (!parsed.success) {
    throw new InvalidForestOptionsError("invalid thresholder options", {
      cause: parsed.error,
      issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return parsed.data as ThresholderOptions;
}

export interface ThresholdDecision {
  /** In [0, 1]: 0 below the threshold, rising smoothly with the distance above it; 1 for a bounds violation. */
  grade: number;
  anomaly: boolean;
  /** Metric indices outside their static bounds. */
  boundsViolations: number[];
  /** The smoothed score's distance above the mean in deviations (0 before warm-up). */
  zScore: number;
}

/** Number of float64 values in `Thresholder.state()` besides the smoothing ring. */
const SCALAR_STATE = 7;

export class Thresholder {
  readonly options: Readonly<ThresholderOptions>;
  private weight = 0;
  private sum = 0;
  private sumSquares = 0;
  private scored = 0;
  private cooldown = 0;
  private ringIndex = 0;
  private ringCount = 0;
  private readonly ring: Float64Array;

  constructor(options: Partial<ThresholderOptions> = {}) {
    this.options = Object.freeze(resolveThresholderOptions(options));
    this.ring = new Float64Array(this.options.smoothing);
  }

  /** Decides on `score` (0 while the forest warms up) for `point`. */
  decide(score: number, point: ArrayLike<number>): ThresholdDecision {
    const o = this.options;
    const boundsViolations: number[] = [];
    for (let i = 0; i < o.bounds.length && i < point.length; i++) {
      const b = o.bounds[i];
      if (b === null || b === undefined) continue;
      if ((b.min !== undefined && point[i] < b.min) || (b.max !== undefined && point[i] > b.max))
        boundsViolations.push(i);
    }
    let grade = 0;
    let zScore = 0;
    const suppressed = this.cooldown > 0;
    if (suppressed) this.cooldown--;
    if (score > 0) {
      this.ring[this.ringIndex] = score;
      this.ringIndex = (this.ringIndex + 1) % this.ring.length;
      if (this.ringCount < this.ring.length) this.ringCount++;
      let smoothed = 0;
      for (let i = 0; i < this.ringCount; i++) smoothed += this.ring[i];
      smoothed /= this.ringCount;
      const mean = this.weight > 0 ? this.sum / this.weight : 0;
      const deviation = this.deviation(mean);
      if (this.scored >= o.warmup && this.weight > 0) {
        zScore = (smoothed - mean) / deviation;
        if (!suppressed && smoothed > o.absoluteFloor && zScore > o.zFactor) {
          grade = 1 - Math.exp(-(zScore - o.zFactor) / o.zFactor);
          if (!(grade > 0)) grade = Number.MIN_VALUE;
          this.cooldown = o.suppression;
        }
      }
      const fed =
        this.scored >= o.warmup && this.weight > 0 ? Math.min(score, mean + o.clip * deviation) : score;
      this.weight = this.weight * o.discount + 1;
      this.sum = this.sum * o.discount + fed;
      this.sumSquares = this.sumSquares * o.discount + fed * fed;
      this.scored++;
    }
    if (boundsViolations.length > 0) grade = 1;
    return { grade, anomaly: grade > 0, boundsViolations, zScore };
  }

  /** Exact state for checkpoints. */
  state(): Float64Array {
    const s = new Float64Array(SCALAR_STATE + this.ring.length);
    s.set([
      this.weight,
      this.sum,
      this.sumSquares,
      this.scored,
      this.cooldown,
      this.ringIndex,
      this.ringCount,
    ]);
    s.set(this.ring, SCALAR_STATE);
    return s;
  }

  restore(state: Float64Array): void {
    if (state.length !== SCALAR_STATE + this.ring.length)
      throw new RangeError("thresholder state has the wrong size");
    [this.weight, this.sum, this.sumSquares, this.scored, this.cooldown, this.ringIndex, this.ringCount] =
      state;
    this.ring.set(state.subarray(SCALAR_STATE));
  }

  private deviation(mean: number): number {
    const variance = this.weight > 0 ? this.sumSquares / this.weight - mean * mean : 0;
    const sd = Math.sqrt(variance > 0 ? variance : 0);
    const floor = Math.max(this.options.minDeviation * Math.abs(mean), 1e-9);
    return sd > floor ? sd : floor;
  }
}
