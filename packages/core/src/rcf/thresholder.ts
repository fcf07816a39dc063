import { z } from "zod";
import type { ByteReader, ByteWriter } from "./binary.ts";
import { CheckpointFormatError, InvalidForestOptionsError } from "./errors.ts";
import { ScoreTail } from "./score-tail.ts";

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
 *
 * Fast path (ADR 0304): smoothing dilutes a single-point spike to 1/`smoothing` of its excess, so a point is also
 * anomalous when its UNSMOOTHED score is above the floor, more than `rawZFactor` deviations above the mean and
 * rarer than `rawTailRisk` under the tail of the recent raw scores (fitted the same way, but never as a bounded
 * tail). The grade is the larger of the two paths' grades. Off by default (`rawTailRisk: 0`, ADR 0304).
 * Every point whose score passes is anomalous (`anomaly`, `grade`), also during an episode (issue 8: anomalies are
 * never hidden) — inside an episode only when its own raw score also passes the z test, so the normal points after a
 * spike, whose smoothed score still carries it, are not counted as anomalies of their own. `suppression` only marks episodes: a score-based anomaly starts a new episode (`newEpisode`) when
 * the series' previous episode started more than `suppression` of its points before; static metric bounds are
 * checked on every point and every violation is an anomaly and a new episode.
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
  /**
   * Number of most recent smoothed scores the tail is fitted on (default 2000, ADR 0307: chosen by leave-one-category-
   * out CV on NAB; the mean and deviation keep their ~5000-point horizon).
   */
  tailWindow: number;
  /** Quantile of the window above which excesses are fitted. */
  tailQuantile: number;
  /** Scored points between refits of the tail. */
  tailRefit: number;
  /**
   * Fast path: a point whose raw (unsmoothed) score is above the floor, more than `zFactor` deviations above the
   * mean and rarer than this under the tail of the last `tailWindow` raw scores is anomalous at once
   * (default 0 = no fast path: see ADR 0304 for why it is off). Optional only for source compatibility; resolved
   * options always hold it.
   */
  rawTailRisk?: number;
  /** Fast path: deviations above the mean the raw score needs (default 8). Optional like `rawTailRisk`. */
  rawZFactor?: number;
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
    tailWindow: z.number().int().min(20).max(100000).default(2000),
    tailQuantile: z.number().gt(0).lt(1).default(0.98),
    tailRefit: z.number().int().min(1).default(50),
    rawTailRisk: z.number().min(0).max(1).default(0),
    rawZFactor: z.number().positive().finite().default(8),
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
  tailWindow: 2000,
  tailQuantile: 0.98,
  tailRefit: 50,
  rawTailRisk: 0,
  rawZFactor: 8,
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
  /**
   * Every anomalous point, whether or not an episode is already going on (issue 8: never hidden): `grade > 0` and
   * either it starts an episode, or its own raw score passes the z test (not just a neighbour of a spike), or the
   * detector's local path graded it (ADR 0306).
   */
  anomaly: boolean;
  /**
   * The point starts a new episode of its series: a score-based anomaly more than `suppression` of the series'
   * points after the previous episode's start, or a static-bounds violation. Alerting may start a new alert only
   * here; NAB's mapping (`nab-score`) reports only these, so each episode is one detection.
   */
  newEpisode: boolean;
  /** Metric indices outside their static bounds. */
  boundsViolations: number[];
  /** The smoothed score's distance above the mean in deviations (0 before warm-up). */
  zScore: number;
  /** Tail probability of the smoothed score among the recent ones (1 when not scored or before warm-up). */
  tailProbability: number;
  /** Tail probability of the raw score among the recent raw ones (1 when not scored, before warm-up or no fast path). */
  rawTailProbability: number;
}

/** Number of float64 values in `Thresholder.state()` before the smoothing ring (format v1 had only these). */
const SCALAR_STATE = 7;
/** Tail scalars after the ring: window head, window count, threshold, shape, scale, fraction above. */
const TAIL_STATE = 6;

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
  /** Tail of the last `tailWindow` smoothed scores (shared by the series: they are one model's scores). */
  private readonly tail: ScoreTail;
  /** Tail of the last `tailWindow` raw scores (float32), for the fast path. */
  private readonly rawTail: ScoreTail;
  /** Scratch copy for quantile selection. */
  private readonly scratch: Float64Array;

  constructor(options: Partial<ThresholderOptions> = {}) {
    this.options = Object.freeze(resolveThresholderOptions(options));
    this.main = this.newSeries();
    this.tail = new ScoreTail(new Float64Array(this.options.tailWindow));
    this.rawTail = new ScoreTail(new Float32Array(this.rawTailRisk > 0 ? this.options.tailWindow : 0));
    this.scratch = new Float64Array(this.options.tailWindow);
  }

  private get rawTailRisk(): number {
    return this.options.rawTailRisk ?? 0;
  }

  /**
   * The grading is calibrated: it has seen `warmup` scores (score > 0) and, when the tail test is on, its tail of
   * recent scores is fitted (at least 20 scores). Before this no score-based anomaly can be raised.
   */
  get calibrated(): boolean {
    return (
      this.scored >= this.options.warmup &&
      this.weight > 0 &&
      (this.options.tailRisk >= 1 || Number.isFinite(this.tail.threshold))
    );
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
   * one model serves many devices; omitted: the single unnamed series). `eligible: false` (the detector's
   * per-series deviation gate, ADR 0305) rules out a score-based anomaly for this point; statistics still update.
   * `localGrade` > 0 (the detector's local path, ADR 0306: the point is far from its series' short-term level) makes
   * the point anomalous with at least that grade once the grading is warm, whatever the score; it starts or joins an
   * episode like any other anomaly.
   */
  decide(
    score: number,
    point: ArrayLike<number>,
    seriesId?: string,
    eligible = true,
    localGrade = 0,
  ): ThresholdDecision {
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
    let rawTailProbability = 1;
    let newEpisode = false;
    // The point's own score passes too (issue 8): smoothing decides episodes, but a normal point right after a spike
    // (its smoothed score still carries the spike) is not an anomaly of its own.
    let ownScorePasses = false;
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
        ownScorePasses = score > o.absoluteFloor && (score - mean) / deviation > o.zFactor;
        tailProbability = this.tail.probability(smoothed);
        const tailOk = o.tailRisk >= 1 || tailProbability < o.tailRisk;
        if (smoothed > o.absoluteFloor && zScore > o.zFactor && tailOk)
          grade = this.grade(zScore, o.zFactor, tailProbability, o.tailRisk);
        const rawRisk = this.rawTailRisk;
        if (rawRisk > 0) {
          rawTailProbability = this.rawTail.probability(score);
          const rawZ = (score - mean) / deviation;
          const rawZf = o.rawZFactor ?? o.zFactor;
          if (score > o.absoluteFloor && rawZ > rawZf && rawTailProbability < rawRisk) {
            const rawGrade = this.grade(rawZ, rawZf, rawTailProbability, rawRisk);
            if (rawGrade > grade) grade = rawGrade;
          }
        }
        // The detector's per-series gate (ADR 0305): a point within its series' usual range is never score-anomalous.
        if (!eligible) grade = 0;
        if (localGrade > grade) grade = localGrade;
        if (grade > 0 && !suppressed) {
          series.cooldown = o.suppression;
          newEpisode = true;
        }
      }
      const fed =
        this.scored >= o.warmup && this.weight > 0 ? Math.min(score, mean + o.clip * deviation) : score;
      this.weight = this.weight * o.discount + 1;
      this.sum = this.sum * o.discount + fed;
      this.sumSquares = this.sumSquares * o.discount + fed * fed;
      this.scored++;
      this.tail.push(smoothed);
      const raw = this.rawTailRisk > 0;
      if (raw) this.rawTail.push(score);
      if (this.scored >= o.warmup && (this.scored - o.warmup) % o.tailRefit === 0) {
        this.tail.fit(o.tailQuantile, this.scratch);
        if (raw) this.rawTail.fit(o.tailQuantile, this.scratch, 0);
      }
    }
    if (boundsViolations.length > 0) {
      grade = 1;
      newEpisode = true;
    }
    return {
      grade,
      anomaly: grade > 0 && (newEpisode || ownScorePasses || localGrade > 0),
      newEpisode,
      boundsViolations,
      zScore,
      tailProbability,
      rawTailProbability,
    };
  }

  /**
   * Grade of an excess that passed both tests: the weaker of the z grade and the tail grade (orders of magnitude
   * below `risk`, relative to log(1/risk)), in (0, 1].
   */
  private grade(z: number, zf: number, p: number, risk: number): number {
    let grade = 1 - Math.exp(-(z - zf) / zf);
    if (risk < 1) {
      const tailGrade = p > 0 ? Math.log(risk / p) / Math.log(1 / risk) : 1;
      if (tailGrade < grade) grade = tailGrade;
    }
    if (grade > 1) grade = 1;
    if (!(grade > 0)) grade = Number.MIN_VALUE;
    return grade;
  }

  /**
   * Exact state for checkpoints: 7 scalars, the smoothing ring, 6 tail scalars, then the filled part of the
   * tail window (oldest first). Cooldown and ring are the unnamed series'; named series are in `writeSeries`.
   */
  state(): Float64Array {
    const main = this.main;
    const r = main.ring.length;
    const tail = this.tail;
    const n = tail.count;
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
    s.set(
      [n, n % tail.window.length, tail.threshold, tail.shape, tail.scale, tail.fraction],
      SCALAR_STATE + r,
    );
    s.set(tail.values(), SCALAR_STATE + r + TAIL_STATE);
    return s;
  }

  /**
   * Restores `state()`. With `legacy` (checkpoint format v1, no tail), the scalars and ring are restored and the
   * tail starts empty: score-based alerts resume once the window holds enough scores to fit it. The raw-score
   * tail (fast path) always starts empty here; `readRawTail` restores it from format 4.
   */
  restore(state: Float64Array, legacy = false): void {
    const main = this.main;
    const r = main.ring.length;
    const tailAt = SCALAR_STATE + r;
    if (legacy ? state.length !== tailAt : state.length < tailAt + TAIL_STATE)
      throw new RangeError("thresholder state has the wrong size");
    const n = legacy ? 0 : state[tailAt];
    const w = this.tail.window.length;
    const head = legacy ? 0 : state[tailAt + 1];
    if (
      !legacy &&
      (!Number.isInteger(n) ||
        n < 0 ||
        n > w ||
        state.length !== tailAt + TAIL_STATE + n ||
        !Number.isInteger(head) ||
        head < 0 ||
        head >= w)
    )
      throw new RangeError("thresholder state has the wrong size");
    [this.weight, this.sum, this.sumSquares, this.scored, main.cooldown, main.ringIndex, main.ringCount] =
      state;
    main.ring.set(state.subarray(SCALAR_STATE, tailAt));
    this.rawTail.clear();
    if (legacy) {
      this.tail.clear();
      return;
    }
    this.tail.load(
      state.subarray(tailAt + TAIL_STATE),
      head,
      state.subarray(tailAt + 2, tailAt + TAIL_STATE),
    );
  }

  /**
   * The raw-score tail for checkpoint format 4 (after the named series): varint window count, varint head,
   * threshold, shape, scale and fraction (f64), then the window's raw scores oldest first (f32, as kept).
   */
  writeRawTail(w: ByteWriter): void {
    const t = this.rawTail;
    w.varint(t.count);
    w.varint(t.head);
    for (const v of [t.threshold, t.shape, t.scale, t.fraction]) w.f64(v);
    for (const v of t.values()) w.f32(v);
  }

  /** Restores `writeRawTail`; throws CheckpointFormatError on inconsistent data. */
  readRawTail(r: ByteReader): void {
    const n = r.varint();
    const head = r.varint();
    const size = this.rawTail.window.length;
    if (n > size || (size > 0 ? head >= size : head !== 0))
      throw new CheckpointFormatError("checkpoint holds an inconsistent raw-score tail");
    const fit = [r.f64(), r.f64(), r.f64(), r.f64()];
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = r.f32();
    this.rawTail.load(values, head, fit);
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
