import { z } from "zod";
import type { ByteReader, ByteWriter } from "./binary.ts";
import { CheckpointFormatError } from "./errors.ts";
import {
  INNOVATION_ADAPT,
  INNOVATION_MEAN_FACTOR,
  INNOVATION_STATE,
  FOLLOWING,
  followState,
  INNOVATION_STATE_V8,
  innovationGainOf,
  innovationStart,
  innovationStep,
  type InnovationSettings,
} from "./innovation-path.ts";

/**
 * Per-series normalisation before a shared forest (issue 8, ADR 0305): each series (device) keeps an
 * exponentially weighted mean and variance per metric over about `horizon` of its own points, and the forest sees
 * (x − mean) / σ instead of x, so devices of one model that sit at their own levels, and metrics of different
 * scales, become one cloud in which a 6σ spike of any device is far outside. Values enter the statistics
 * winsorised at `clip` σ, so an anomaly does not drag its own baseline. A series is ready after `warmup` points.
 */
export interface NormalizerOptions {
  /** Points of the series the mean and variance remember (EW weight 1 − 1/horizon). */
  horizon: number;
  /** Points of a series before its values are scored (its baseline is unknown before). */
  warmup: number;
  /** Values enter the statistics clipped to mean ± clip·σ. */
  clip: number;
  /**
   * A score-based anomaly of a named series also needs one of its metrics at least this many of the series' own σ
   * from its baseline (ADR 0305) AND one at least this many residual σ from its short-term level (ADR 0306): points
   * inside the series' usual range, or where the series already is, never alert however the forest scores them.
   * 0 turns the gate off. Applies only with `forestPath` (ADR 0308); also the width of `expected` (mean ± this σ).
   */
  alertDeviation: number;
  /**
   * Local path (ADR 0306, 0308): a point of a named series whose value sits at least this many residual σ from the
   * series' own short-term level (an EW mean over ~10 of its points; σ of the residuals over ~`5 × horizon` of its
   * points) is anomalous whatever the forest's grade: a single-point spike or the onset (or end) of a level shift,
   * judged against the series' own short-term noise. 6 (ADR 0308): a Gaussian residual passes 6 σ with probability
   * 2e-9, ≤ 0.001 false alerts per device-day at 5 metrics × 1 Hz, leaving margin for the measured heavier tail.
   * 0 turns the path off.
   */
  spikeDeviation: number;
  /**
   * Whether the forest's grade may raise an anomaly of a named series at all (behind the two-baseline gate). Off by
   * default (ADR 0308): on the fleet benchmark every anomaly it added was a false alert or one the local path also
   * caught. The raw forest score, its attribution and the unnamed series (NAB) are not affected.
   */
  forestPath: boolean;
  /**
   * Sustained path (ADR 0309): per weight, an EW mean of the series' own winsorised residuals (the local path's
   * x − level) with that weight for a new residual; the mean, in its own σ learned on the series (so the wander's
   * autocorrelation is in the unit), is graded against the same `spikeDeviation` bar as a single residual, through
   * `lastLocalDeviation`. A persistent change whose every reading is under the bar adds up here. Default
   * `[SUSTAINED_WEIGHT]`; `[]` turns it off. Checkpointed from format 7 (older ones re-learn it).
   */
  sustainedWeights: number[];
  /**
   * Innovation path (ADR 0310): per metric a level whose gain K is learned from the series (adapted until its
   * one-step innovations are uncorrelated: log K moves by `innovationAdapt` × the lag-1 product of the standardised
   * innovations; 0 keeps K at 0.1), graded through `lastLocalDeviation` against `spikeDeviation`: the EW mean of the
   * innovations with weight `innovationMean` × K in its own σ (0: none) and, with `innovationSingle`, the single
   * innovation in its σ. Off when both are off. Checkpointed from format 8 (older ones learn it again).
   */
  innovationAdapt: number;
  innovationMean: number;
  innovationSingle: boolean;
  /**
   * Levels follow a flagged change (ADR 0311): once two readings in a row sit past the bar (`spikeDeviation`, at
   * least `clip`) on the same side of a level — the short-term level and the innovation path's level, per metric —
   * that level moves to the value, and keeps moving to each next value while the series goes on in the change's
   * direction; the EW means measured against it (sustained path, innovation mean) restart at 0. Without it a
   * winsorised level crawls after a step by at most `clip` σ × its weight per reading, and every reading until it
   * has caught up (minutes on a 4-s weather series) reads as anomalous although it sits inside the series' range.
   * A single outlier still moves the level by its winsorised value only. Checkpointed from format 9.
   */
  followSteps: boolean;
}

/** Weight of a new residual in the sustained path's EW mean (≈ the last 5 points; ADR 0309). */
export const SUSTAINED_WEIGHT = 0.2;

export const normalizerOptionsSchema = z
  .object({
    horizon: z.number().int().min(2).max(10_000_000),
    warmup: z.number().int().min(1),
    clip: z.number().positive(),
    alertDeviation: z.number().min(0).default(4),
    spikeDeviation: z.number().min(0).default(6),
    forestPath: z.boolean().default(false),
    sustainedWeights: z.array(z.number().gt(0).max(1)).max(4).default([SUSTAINED_WEIGHT]),
    innovationAdapt: z.number().min(0).max(1).default(INNOVATION_ADAPT),
    innovationMean: z.number().min(0).max(10).default(INNOVATION_MEAN_FACTOR),
    innovationSingle: z.boolean().default(true),
    followSteps: z.boolean().default(true),
  })
  .strict();

export const defaultNormalizerOptions: NormalizerOptions = {
  horizon: 1000,
  warmup: 30,
  clip: 5,
  alertDeviation: 4,
  spikeDeviation: 6,
  forestPath: false,
  sustainedWeights: [SUSTAINED_WEIGHT],
  innovationAdapt: INNOVATION_ADAPT,
  innovationMean: INNOVATION_MEAN_FACTOR,
  innovationSingle: true,
  followSteps: true,
};

/** Weight of a new value in a series' short-term level (≈ the last 10 points). */
const LEVEL_WEIGHT = 0.1;
/** The residual σ remembers this many horizons of the series' points. */
const RESIDUAL_HORIZONS = 5;
/** Points of a series before its residual σ is trusted by the local path. */
export const LOCAL_WARMUP = 100;
/** Points after `LOCAL_WARMUP` before the σ of a series' sustained residual is trusted (ADR 0309). */
export const SUSTAINED_WARMUP = 200;

/** One series' statistics (exported as a type for the checkpoint-format tests). */
export interface SeriesStats {
  count: number;
  /** Points seen by the local statistics (fewer than `count` after a restore from format 5). */
  localCount: number;
  mean: Float64Array;
  variance: Float64Array;
  /** Short-term level (EW, weight LEVEL_WEIGHT) and variance of the residuals around it, per metric. */
  level: Float64Array;
  residual: Float64Array;
  /**
   * Sustained path (ADR 0309; checkpointed since format 7, learned again after a restore from an older one): points
   * seen, and per metric × weight the EW mean of the residuals and its variance.
   */
  sustainedCount: number;
  sustained: Float64Array;
  sustainedVar: Float64Array;
  /** Innovation path (ADR 0310): points seen, and per metric `INNOVATION_STATE` numbers. */
  innovationCount: number;
  innovation: Float64Array;
  /** Per metric: the short-term level's `followState` (ADR 0311; checkpointed since format 9). */
  follow: Int8Array;
}

export class SeriesNormalizer {
  private readonly series = new Map<string, SeriesStats>();
  private readonly main: SeriesStats;
  private readonly alpha: number;
  /** Largest |x − mean| / σ over the metrics of the last point `apply` saw (before it updated the statistics). */
  lastDeviation = 0;
  /**
   * Largest |x − level| / residual σ over the metrics of the last point `apply` saw, 0 while the series has fewer
   * than `LOCAL_WARMUP` points (the local path's statistic, ADR 0306).
   */
  lastLocalDeviation = 0;
  /** Per metric of the last point: signed (x − mean) / σ and (x − level) / residual σ (0 before `LOCAL_WARMUP`). */
  readonly lastZ: Float64Array;
  readonly lastLocal: Float64Array;
  /** Per metric of the last point: the sustained residual in its own σ (0 before `SUSTAINED_WARMUP`; ADR 0309). */
  readonly lastSustained: Float64Array;
  /** Per metric of the last point: the innovation path's statistic in its σ (0 before it is trusted; ADR 0310). */
  readonly lastInnovation: Float64Array;
  private readonly residualAlpha: number;
  private readonly innovationOn: boolean;
  private readonly innovationSettings: InnovationSettings;

  constructor(
    readonly dimensions: number,
    readonly options: NormalizerOptions,
    private readonly maxSeries: number,
  ) {
    this.alpha = 1 / options.horizon;
    this.residualAlpha = 1 / (RESIDUAL_HORIZONS * options.horizon);
    this.innovationOn = options.innovationMean > 0 || options.innovationSingle;
    this.innovationSettings = {
      adapt: options.innovationAdapt,
      meanFactor: options.innovationMean,
      single: options.innovationSingle,
      clip: options.clip,
      follow: options.followSteps,
      followAt: Math.max(options.clip, options.spikeDeviation),
    };
    this.main = this.fresh();
    this.lastZ = new Float64Array(dimensions);
    this.lastLocal = new Float64Array(dimensions);
    this.lastSustained = new Float64Array(dimensions);
    this.lastInnovation = new Float64Array(dimensions);
  }

  private fresh(): SeriesStats {
    return {
      count: 0,
      localCount: 0,
      sustainedCount: 0,
      mean: new Float64Array(this.dimensions),
      variance: new Float64Array(this.dimensions),
      level: new Float64Array(this.dimensions),
      residual: new Float64Array(this.dimensions),
      sustained: new Float64Array(this.dimensions * this.options.sustainedWeights.length),
      sustainedVar: new Float64Array(this.dimensions * this.options.sustainedWeights.length),
      innovationCount: 0,
      innovation: new Float64Array(this.innovationOn ? this.dimensions * INNOVATION_STATE : 0),
      follow: new Int8Array(this.dimensions),
    };
  }

  private of(id: string | undefined): SeriesStats {
    if (id === undefined) return this.main;
    let s = this.series.get(id);
    if (s) this.series.delete(id);
    else {
      s = this.fresh();
      if (this.series.size >= this.maxSeries) this.series.delete(this.series.keys().next().value as string);
    }
    this.series.set(id, s);
    return s;
  }

  /** σ of a metric with a floor (constant or quantised series): 1e-3 of the level, at least 1e-9. */
  private static sd(variance: number, mean: number): number {
    const sd = Math.sqrt(variance > 0 ? variance : 0);
    const floor = Math.max(1e-3 * Math.abs(mean), 1e-9);
    return sd > floor ? sd : floor;
  }

  /**
   * Writes the normalised point into `out`, then updates the series' statistics. Returns whether the series was
   * ready (had seen `warmup` points) before this one.
   */
  apply(point: ArrayLike<number>, seriesId: string | undefined, out: Float64Array): boolean {
    const s = this.of(seriesId);
    const ready = s.count >= this.options.warmup;
    const first = s.count === 0;
    // While warming up, plain running moments (equal weights) so the baseline is usable after a few points.
    const a = s.count < this.options.horizon ? 1 / (s.count + 1) : this.alpha;
    let deviation = 0;
    let local = 0;
    const localFirst = s.localCount === 0;
    const localReady = s.localCount >= LOCAL_WARMUP;
    const lc = s.localCount;
    const ra = lc < RESIDUAL_HORIZONS * this.options.horizon ? 1 / (lc + 1) : this.residualAlpha;
    const weights = this.options.sustainedWeights;
    const sc = s.sustainedCount;
    const sustainedReady = sc >= SUSTAINED_WARMUP;
    const sa = sc < RESIDUAL_HORIZONS * this.options.horizon ? 1 / (sc + 1) : this.residualAlpha;
    const ic = s.innovationCount;
    const ia = ic < RESIDUAL_HORIZONS * this.options.horizon ? 1 / (ic + 1) : this.residualAlpha;
    for (let i = 0; i < this.dimensions; i++) {
      const x = point[i];
      this.lastInnovation[i] = 0;
      if (this.innovationOn) {
        if (ic === 0) innovationStart(s.innovation, i * INNOVATION_STATE, x);
        else {
          const z = innovationStep(s.innovation, i * INNOVATION_STATE, x, ic, ia, this.innovationSettings);
          this.lastInnovation[i] = z;
          if (z > local) local = z;
        }
      }
      const m = s.mean[i];
      const sd = SeriesNormalizer.sd(s.variance[i], m);
      out[i] = first ? 0 : (x - m) / sd;
      this.lastZ[i] = out[i];
      this.lastLocal[i] = 0;
      this.lastSustained[i] = 0;
      const dev = out[i] < 0 ? -out[i] : out[i];
      if (dev > deviation) deviation = dev;
      let fed = x;
      if (ready) {
        const lim = this.options.clip * sd;
        if (fed > m + lim) fed = m + lim;
        else if (fed < m - lim) fed = m - lim;
      }
      if (first) s.mean[i] = fed;
      else {
        const d = fed - m;
        s.mean[i] = m + a * d;
        s.variance[i] = (1 - a) * (s.variance[i] + a * d * d);
      }
      if (localFirst) s.level[i] = x;
      else {
        // Local path: the residual around the short-term level, winsorised at `clip` residual σ once trusted.
        const rsd = SeriesNormalizer.residualSd(s.residual[i], s.level[i]);
        let r = x - s.level[i];
        const lz = r < 0 ? -r / rsd : r / rsd;
        let moved = false;
        if (localReady) {
          this.lastLocal[i] = r / rsd;
          if (lz > local) local = lz;
          if (this.options.followSteps) {
            // ADR 0311: a change flagged on two readings in a row is followed, not crawled after.
            const next = followState(s.follow[i], r, this.innovationSettings.followAt * rsd);
            s.follow[i] = next;
            moved = next === FOLLOWING || next === -FOLLOWING;
          }
          const lim = this.options.clip * rsd;
          r = r > lim ? lim : r < -lim ? -lim : r;
        }
        if (localReady) {
          for (let w = 0; w < weights.length; w++) {
            // Sustained path: an EW mean of the winsorised residuals, judged in its own σ (mean 0 around a level).
            const j = i * weights.length + w;
            const sw = weights[w];
            const ew = (1 - sw) * s.sustained[j] + sw * r;
            s.sustained[j] = ew;
            const ssd = SeriesNormalizer.residualSd(s.sustainedVar[j], s.level[i]);
            const sz = ew / ssd;
            const az = sz < 0 ? -sz : sz;
            if (sustainedReady) {
              if (az > (this.lastSustained[i] < 0 ? -this.lastSustained[i] : this.lastSustained[i]))
                this.lastSustained[i] = sz;
              if (az > local) local = az;
            }
            const lim = this.options.clip * ssd;
            const fed = sustainedReady ? (ew > lim ? lim : ew < -lim ? -lim : ew) : ew;
            s.sustainedVar[j] = (1 - sa) * s.sustainedVar[j] + sa * fed * fed;
          }
        }
        s.residual[i] = (1 - ra) * (s.residual[i] + ra * r * r);
        if (moved) {
          // The level is where the series now is; the sustained means measured the old level's offset.
          s.level[i] = x;
          for (let w = 0; w < weights.length; w++) s.sustained[i * weights.length + w] = 0;
        } else s.level[i] += LEVEL_WEIGHT * r;
      }
    }
    s.count++;
    if (localReady && weights.length > 0) s.sustainedCount++;
    s.localCount++;
    if (this.innovationOn) s.innovationCount++;
    this.lastDeviation = deviation;
    this.lastLocalDeviation = local;
    return ready;
  }

  /** Residual σ with a floor (constant or quantised series): 1e-4 of the level, at least 1e-9. */
  private static residualSd(variance: number, level: number): number {
    const sd = Math.sqrt(variance > 0 ? variance : 0);
    const floor = Math.max(1e-4 * Math.abs(level), 1e-9);
    return sd > floor ? sd : floor;
  }

  /** The innovation path's learned gain of a series' metric (undefined: unknown series or path off; ADR 0310). */
  innovationGain(seriesId: string | undefined, metric: number): number | undefined {
    const s = seriesId === undefined ? this.main : this.series.get(seriesId);
    if (!s || s.innovationCount === 0 || s.innovation.length === 0) return undefined;
    return innovationGainOf(s.innovation, metric * INNOVATION_STATE);
  }

  /** The expected range of each metric of a series: mean ± k·σ in the metric's own units. */
  expectedRange(seriesId: string | undefined, k: number): { low: number; high: number }[] {
    const s = seriesId === undefined ? this.main : this.series.get(seriesId);
    const out: { low: number; high: number }[] = [];
    for (let i = 0; i < this.dimensions; i++) {
      const m = s ? s.mean[i] : 0;
      const sd = s ? SeriesNormalizer.sd(s.variance[i], m) : 0;
      out.push({ low: m - k * sd, high: m + k * sd });
    }
    return out;
  }

  /**
   * Checkpoint section: the unnamed series, then varint count and per named series id + stats: varint count, then
   * per metric mean and variance (format 5); format 6 (ADR 0306) adds a varint local count after the count and the
   * short-term level and residual variance after each metric's mean and variance; format 7 (ADR 0309) adds a varint
   * sustained count after the local count and, after the metrics, per metric × sustained weight the EW mean and its
   * variance; format 8 (ADR 0310) then adds a varint innovation count and per metric the innovation path's
   * 6 numbers (none when the path is off); format 9 (ADR 0311) has 7 there (the level's follow state) and then
   * per metric the short-term level's follow state (one byte).
   */
  write(w: ByteWriter): void {
    const put = (s: SeriesStats) => {
      w.varint(s.count);
      w.varint(s.localCount);
      w.varint(s.sustainedCount);
      for (let i = 0; i < this.dimensions; i++) {
        w.f64(s.mean[i]);
        w.f64(s.variance[i]);
        w.f64(s.level[i]);
        w.f64(s.residual[i]);
      }
      // Sustained path (format 7, ADR 0309): per metric × weight of the header's `sustainedWeights`.
      for (let j = 0; j < s.sustained.length; j++) {
        w.f64(s.sustained[j]);
        w.f64(s.sustainedVar[j]);
      }
      // Innovation path (format 8, ADR 0310): its count, then per metric its state (none when the path is off);
      // format 9 (ADR 0311): 7 numbers per metric (the last its level's follow state), then per metric the short-term
      // level's follow state as one byte (state + 2).
      w.varint(s.innovationCount);
      for (let j = 0; j < s.innovation.length; j++) w.f64(s.innovation[j]);
      for (let i = 0; i < this.dimensions; i++) w.u8(s.follow[i] + FOLLOWING);
    };
    put(this.main);
    const encoder = new TextEncoder();
    w.varint(this.series.size);
    for (const [id, s] of this.series) {
      const bytes = encoder.encode(id);
      w.varint(bytes.length);
      w.bytes(bytes);
      put(s);
    }
  }

  /**
   * Restores `write`. Format 5 (`local: false`) has no local statistics: each series' level and residual σ are
   * learned again from its next points (the local path waits `LOCAL_WARMUP` of them). Formats 5 and 6
   * (`sustained: false`) have no sustained path: it is learned again (`SUSTAINED_WARMUP` points past the local path).
   * Formats 5–7 (`innovation: false`) have no innovation path: it starts again at the series' next point.
   * Formats 5–8 (`follow: false`) have no follow states: every level starts as not following (ADR 0311).
   */
  read(r: ByteReader, local = true, sustained = true, innovation = true, follow = true): void {
    const get = (s: SeriesStats) => {
      s.count = r.varint();
      s.localCount = local ? r.varint() : 0;
      s.sustainedCount = sustained ? r.varint() : 0;
      for (let i = 0; i < this.dimensions; i++) {
        s.mean[i] = r.f64();
        s.variance[i] = r.f64();
        if (local) {
          s.level[i] = r.f64();
          s.residual[i] = r.f64();
        }
      }
      if (sustained)
        for (let j = 0; j < s.sustained.length; j++) {
          s.sustained[j] = r.f64();
          s.sustainedVar[j] = r.f64();
        }
      if (innovation) {
        s.innovationCount = r.varint();
        // Format 8 has `INNOVATION_STATE_V8` numbers per metric: no follow state (0, not following).
        const per = follow ? INNOVATION_STATE : INNOVATION_STATE_V8;
        for (let j = 0; j < s.innovation.length; j++)
          s.innovation[j] = j % INNOVATION_STATE < per ? r.f64() : 0;
      }
      if (follow)
        for (let i = 0; i < this.dimensions; i++) {
          const v = r.u8() - FOLLOWING;
          if (v < -FOLLOWING || v > FOLLOWING)
            throw new CheckpointFormatError("checkpoint holds a bad follow state");
          s.follow[i] = v;
        }
    };
    get(this.main);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const n = r.varint();
    if (n > this.maxSeries) throw new CheckpointFormatError("checkpoint holds too many normalised series");
    this.series.clear();
    for (let k = 0; k < n; k++) {
      const id = decoder.decode(r.bytes(r.varint()));
      if (this.series.has(id)) throw new CheckpointFormatError("checkpoint holds a normalised series twice");
      const s = this.fresh();
      get(s);
      this.series.set(id, s);
    }
  }
}
