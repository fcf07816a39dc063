import { z } from "zod";
import type { ByteReader, ByteWriter } from "./binary.ts";
import { CheckpointFormatError, InvalidForestOptionsError } from "./errors.ts";

/** Static bounds of one metric (from the thresholds configuration); a value outside is always anomalous. */
export interface MetricBounds {
  min?: number;
  max?: number;
}

/**
 * Adaptive decisions on a stream of RCF scores. The thresholder keeps a discounted mean and deviation of recent
 * scores; a point is anomalous when the average of the last `smoothing` scores sits more than `zFactor`
 * deviations above that mean and above `absoluteFloor` (inliers score near 1), after `warmup` scored points,
 * AND that smoothed score is rarer than `tailRisk` under the tail of the recent smoothed scores (peaks over a
 * threshold: a generalized Pareto distribution fitted to the excesses over their `tailQuantile`, as in SPOT,
 * Siffer et al. 2017), so heavy-tailed, bursty score streams do not alert on every burst.
 * After an anomaly, further score-based anomalies are suppressed for `suppression` points (one alert per
 * episode); static metric bounds are checked on every point and are never suppressed.
 *
 * Series (ADR 0303): a thresholder may decide for several interleaved series (devices) that share one model.
 * The score statistics (mean, deviation, tail, warm-up) describe the model's scores and are shared; the smoothing
 * ring and the suppression cooldown are per series, counted in that series' own points, so an alert on one
 * device never hides or smears into another's. Without a series id everything is one series (NAB, `nab-score`).
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
  /** An alert also needs the smoothed score's tail probability below this (1 disables the tail test). */
  tailRisk: number;
  /** Number of most recent smoothed scores the tail is fitted on. */
  tailWindow: number;
  /** Quantile of the window above which excesses are fitted. */
  tailQuantile: number;
  /** Scored points between refits of the tail. */
  tailRefit: number;
  /** Most named series whose state is kept; the least recently seen is forgotten first (it restarts fresh). */
  maxSeries: number;
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
    tailRisk: z.number().gt(0).max(1).default(0.003),
    tailWindow: z.number().int().min(20).max(100000).default(5000),
    tailQuantile: z.number().gt(0).lt(1).default(0.98),
    tailRefit: z.number().int().min(1).default(50),
    maxSeries: z.number().int().min(1).max(1_000_000).default(50_000),
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
  tailRisk: 0.003,
  tailWindow: 5000,
  tailQuantile: 0.98,
  tailRefit: 50,
  maxSeries: 50_000,
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
  /** Tail probability of the smoothed score among the recent ones (1 when not scored or before warm-up). */
  tailProbability: number;
}

/** Number of float64 values in `Thresholder.state()` before the smoothing ring (format v1 had only these). */
const SCALAR_STATE = 7;
/** Tail scalars after the ring: window head, window count, threshold, shape, scale, fraction above. */
const TAIL_STATE = 6;
/** Fewest windowed scores for a tail fit, and fewest excesses for a moment fit. */
const MIN_TAIL_WINDOW = 20;
const MIN_EXCESSES = 5;

/** What is per series: the smoothing ring of its last scores and its suppression cooldown (in its points). */
interface SeriesState {
  cooldown: number;
  ringIndex: number;
  ringCount: number;
  ring: Float64Array;
}

export class Thresholder {
  readonly options: Readonly<ThresholderOptions>;
  private weight = 0;
  private sum = 0;
  private sumSquares = 0;
  private scored = 0;
  /** The unnamed series (`decide` without a series id): the single-series case. */
  private readonly main: SeriesState;
  /** Named series, least recently seen first (Map insertion order; a decision moves its series to the end). */
  private readonly series = new Map<string, SeriesState>();
  /** Ring of the last `tailWindow` smoothed scores, and a scratch copy for quantile selection. */
  private readonly window: Float64Array;
  private readonly scratch: Float64Array;
  private windowHead = 0;
  private windowCount = 0;
  /** Fitted tail: P(X > x) = fraction · (1 + shape·(x − threshold)/scale)^(−1/shape) above the threshold. */
  private tailThreshold = Infinity;
  private tailShape = 0;
  private tailScale = 1;
  private tailFraction = 0;

  constructor(options: Partial<ThresholderOptions> = {}) {
    this.options = Object.freeze(resolveThresholderOptions(options));
    this.main = this.newSeries();
    this.window = new Float64Array(this.options.tailWindow);
    this.scratch = new Float64Array(this.options.tailWindow);
  }

  /** Number of named series whose state is kept (at most `maxSeries`). */
  get seriesCount(): number {
    return this.series.size;
  }

  private newSeries(): SeriesState {
    return { cooldown: 0, ringIndex: 0, ringCount: 0, ring: new Float64Array(this.options.smoothing) };
  }

  private seriesOf(id: string | undefined): SeriesState {
    if (id === undefined) return this.main;
    let s = this.series.get(id);
    if (s) {
      this.series.delete(id);
    } else {
      s = this.newSeries();
      if (this.series.size >= this.options.maxSeries)
        this.series.delete(this.series.keys().next().value as string);
    }
    this.series.set(id, s);
    return s;
  }

  /**
   * Decides on `score` (0 while the forest warms up) for `point` of series `seriesId` (e.g. the device id when
   * one model serves many devices; omitted: the single unnamed series).
   */
  decide(score: number, point: ArrayLike<number>, seriesId?: string): ThresholdDecision {
    const o = this.options;
    const series = this.seriesOf(seriesId);
    const boundsViolations: number[] = [];
    for (let i = 0; i < o.bounds.length && i < point.length; i++) {
      const b = o.bounds[i];
      if (b === null || b === undefined) continue;
      if ((b.min !== undefined && point[i] < b.min) || (b.max !== undefined && point[i] > b.max))
        boundsViolations.push(i);
    }
    let grade = 0;
    let zScore = 0;
    let tailProbability = 1;
    const suppressed = series.cooldown > 0;
    if (suppressed) series.cooldown--;
    if (score > 0) {
      const ring = series.ring;
      ring[series.ringIndex] = score;
      series.ringIndex = (series.ringIndex + 1) % ring.length;
      if (series.ringCount < ring.length) series.ringCount++;
      let smoothed = 0;
      for (let i = 0; i < series.ringCount; i++) smoothed += ring[i];
      smoothed /= series.ringCount;
      const mean = this.weight > 0 ? this.sum / this.weight : 0;
      const deviation = this.deviation(mean);
      if (this.scored >= o.warmup && this.weight > 0) {
        zScore = (smoothed - mean) / deviation;
        tailProbability = this.tailProbability(smoothed);
        const tailOk = o.tailRisk >= 1 || tailProbability < o.tailRisk;
        if (!suppressed && smoothed > o.absoluteFloor && zScore > o.zFactor && tailOk) {
          // Both tests grade the excess; the weaker one counts. The tail grade is the number of orders of
          // magnitude below tailRisk, relative to log(1/tailRisk).
          grade = 1 - Math.exp(-(zScore - o.zFactor) / o.zFactor);
          if (o.tailRisk < 1) {
            const tailGrade =
              tailProbability > 0 ? Math.log(o.tailRisk / tailProbability) / Math.log(1 / o.tailRisk) : 1;
            if (tailGrade < grade) grade = tailGrade;
          }
          if (grade > 1) grade = 1;
          if (!(grade > 0)) grade = Number.MIN_VALUE;
          series.cooldown = o.suppression;
        }
      }
      const fed =
        this.scored >= o.warmup && this.weight > 0 ? Math.min(score, mean + o.clip * deviation) : score;
      this.weight = this.weight * o.discount + 1;
      this.sum = this.sum * o.discount + fed;
      this.sumSquares = this.sumSquares * o.discount + fed * fed;
      this.scored++;
      this.window[this.windowHead] = smoothed;
      this.windowHead = (this.windowHead + 1) % this.window.length;
      if (this.windowCount < this.window.length) this.windowCount++;
      if (this.scored >= o.warmup && (this.scored - o.warmup) % o.tailRefit === 0) this.fitTail();
    }
    if (boundsViolations.length > 0) grade = 1;
    return { grade, anomaly: grade > 0, boundsViolations, zScore, tailProbability };
  }

  /** P(smoothed score > x) under the fitted tail; 1 at or below the tail threshold or before any fit. */
  private tailProbability(x: number): number {
    const t = this.tailThreshold;
    if (!(x > t)) return 1;
    const y = x - t;
    const shape = this.tailShape;
    if (Math.abs(shape) < 1e-6) return this.tailFraction * Math.exp(-y / this.tailScale);
    const base = 1 + (shape * y) / this.tailScale;
    if (base <= 0) return 0; // beyond the end of a bounded tail
    return this.tailFraction * Math.pow(base, -1 / shape);
  }

  /**
   * Refits the tail on the window: threshold = its `tailQuantile`, then a generalized Pareto distribution fitted
   * to the excesses by the method of moments (shape = ½(1 − m²/v), scale = ½·m·(m²/v + 1)).
   */
  private fitTail(): void {
    const n = this.windowCount;
    if (n < MIN_TAIL_WINDOW) {
      this.tailThreshold = Infinity;
      return;
    }
    // Oldest first, so that a restored thresholder (window stored in that order) sums identically.
    const w = this.window.length;
    const oldest = (this.windowHead - n + w) % w;
    const values = this.scratch;
    for (let i = 0; i < n; i++) values[i] = this.window[(oldest + i) % w];
    const t = selectKth(values, n, Math.floor(this.options.tailQuantile * (n - 1)));
    let count = 0;
    let sum = 0;
    let max = t;
    for (let i = 0; i < n; i++) {
      const v = this.window[(oldest + i) % w];
      if (v > t) {
        count++;
        sum += v - t;
        if (v > max) max = v;
      }
    }
    this.tailThreshold = t;
    this.tailFraction = count / n;
    if (count < MIN_EXCESSES) {
      this.tailShape = 0;
      this.tailScale = Math.max(1e-9, max - t || 1e-3);
      return;
    }
    const m = sum / count;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const v = this.window[(oldest + i) % w];
      if (v > t) squares += (v - t - m) * (v - t - m);
    }
    const variance = squares / count;
    if (!(variance > 0)) {
      this.tailShape = 0;
      this.tailScale = Math.max(m, 1e-9);
      return;
    }
    const r = (m * m) / variance;
    this.tailShape = 0.5 * (1 - r);
    this.tailScale = 0.5 * m * (r + 1);
  }

  /**
   * Exact state for checkpoints: 7 scalars, the smoothing ring, 6 tail scalars, then the filled part of the
   * tail window (oldest first). Cooldown and ring are the unnamed series'; named series are in `writeSeries`.
   */
  state(): Float64Array {
    const main = this.main;
    const r = main.ring.length;
    const n = this.windowCount;
    const s = new Float64Array(SCALAR_STATE + r + TAIL_STATE + n);
    s.set([
      this.weight,
      this.sum,
      this.sumSquares,
      this.scored,
      main.cooldown,
      main.ringIndex,
      main.ringCount,
    ]);
    s.set(main.ring, SCALAR_STATE);
    const w = this.window.length;
    const oldest = (this.windowHead - n + w) % w;
    s.set(
      [n, n % w, this.tailThreshold, this.tailShape, this.tailScale, this.tailFraction],
      SCALAR_STATE + r,
    );
    for (let i = 0; i < n; i++) s[SCALAR_STATE + r + TAIL_STATE + i] = this.window[(oldest + i) % w];
    return s;
  }

  /**
   * Restores `state()`. With `legacy` (checkpoint format v1, no tail), the scalars and ring are restored and the
   * tail starts empty: score-based alerts resume once the window holds enough scores to fit it.
   */
  restore(state: Float64Array, legacy = false): void {
    const main = this.main;
    const r = main.ring.length;
    const tailAt = SCALAR_STATE + r;
    if (legacy ? state.length !== tailAt : state.length < tailAt + TAIL_STATE)
      throw new RangeError("thresholder state has the wrong size");
    const n = legacy ? 0 : state[tailAt];
    if (
      !legacy &&
      (!Number.isInteger(n) || n < 0 || n > this.window.length || state.length !== tailAt + TAIL_STATE + n)
    )
      throw new RangeError("thresholder state has the wrong size");
    [this.weight, this.sum, this.sumSquares, this.scored, main.cooldown, main.ringIndex, main.ringCount] =
      state;
    main.ring.set(state.subarray(SCALAR_STATE, tailAt));
    this.window.fill(0);
    if (legacy) {
      this.windowCount = 0;
      this.windowHead = 0;
      this.tailThreshold = Infinity;
      this.tailShape = 0;
      this.tailScale = 1;
      this.tailFraction = 0;
      return;
    }
    this.windowCount = n;
    this.windowHead = state[tailAt + 1];
    [this.tailThreshold, this.tailShape, this.tailScale, this.tailFraction] = state.subarray(
      tailAt + 2,
      tailAt + 6,
    );
    // Oldest first, ending just before the head.
    const w = this.window.length;
    for (let i = 0; i < n; i++)
      this.window[(this.windowHead - n + i + w) % w] = state[tailAt + TAIL_STATE + i];
  }

  /**
   * Named series for checkpoint format 3, least recently seen first: varint count, then per series the
   * varint-length UTF-8 id, varint cooldown, varint ring index, varint ring count and the ring's filled slots (f64, in
   * slot order, so restored smoothing sums add up bit for bit).
   */
  writeSeries(w: ByteWriter): void {
    const encoder = new TextEncoder();
    w.varint(this.series.size);
    for (const [id, s] of this.series) {
      const bytes = encoder.encode(id);
      w.varint(bytes.length);
      w.bytes(bytes);
      w.varint(s.cooldown);
      w.varint(s.ringIndex);
      w.varint(s.ringCount);
      for (let i = 0; i < s.ringCount; i++) w.f64(s.ring[i]);
    }
  }

  /** Restores `writeSeries` (replacing the named series); throws CheckpointFormatError on inconsistent data. */
  readSeries(r: ByteReader): void {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const count = r.varint();
    if (count > this.options.maxSeries) throw new CheckpointFormatError("checkpoint holds too many series");
    const size = this.options.smoothing;
    this.series.clear();
    for (let n = 0; n < count; n++) {
      const id = decoder.decode(r.bytes(r.varint()));
      const s = this.newSeries();
      s.cooldown = r.varint();
      s.ringIndex = r.varint();
      s.ringCount = r.varint();
      if (s.ringCount > size || s.ringIndex >= size || s.cooldown > this.options.suppression)
        throw new CheckpointFormatError("checkpoint holds an inconsistent series state");
      for (let i = 0; i < s.ringCount; i++) s.ring[i] = r.f64();
      if (this.series.has(id)) throw new CheckpointFormatError("checkpoint holds a series twice");
      this.series.set(id, s);
    }
  }

  private deviation(mean: number): number {
    const variance = this.weight > 0 ? this.sumSquares / this.weight - mean * mean : 0;
    const sd = Math.sqrt(variance > 0 ? variance : 0);
    const floor = Math.max(this.options.minDeviation * Math.abs(mean), 1e-9);
    return sd > floor ? sd : floor;
  }
}

/** The k-th smallest of `a[0..n)` (Hoare's selection, in place). */
function selectKth(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
