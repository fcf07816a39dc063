import { ByteWriter } from "./binary.ts";
import {
  CHECKPOINT_VERSION_NO_FOLLOW,
  CHECKPOINT_VERSION_NO_INNOVATION,
  CHECKPOINT_VERSION_NO_LOCAL,
  CHECKPOINT_VERSION_NO_SUSTAINED,
  CHECKPOINT_VERSION_NO_NORMALIZER,
  CHECKPOINT_VERSION_NO_RAW_TAIL,
  CHECKPOINT_VERSION_NO_SERIES,
  CHECKPOINT_VERSION_NO_TAIL,
  openCheckpoint,
  sealCheckpoint,
} from "./checkpoint.ts";
import { CheckpointFormatError } from "./errors.ts";
import { readForest, writeForest } from "./forest-state.ts";
import { RandomCutForest } from "./forest.ts";
import { forestOptionsSchema, type ForestOptionsInput } from "./options.ts";
import {
  defaultNormalizerOptions,
  normalizerOptionsSchema,
  SeriesNormalizer,
  type NormalizerOptions,
} from "./series-normalizer.ts";
import { Thresholder, thresholderOptionsSchema, type ThresholderOptions } from "./thresholder.ts";

export interface MetricAttribution {
  /** Metric index in the input point. */
  index: number;
  /** This metric's share of the score (high + low); the shares add up to the score. */
  contribution: number;
  /** Whether the point is unusual for being above (HIGH) or below (LOW) what the forest has seen. */
  direction: "HIGH" | "LOW";
}

export interface DetectorResult {
  /** Raw RCF score (0 until the forest's `outputAfter`). Inliers score near 1. */
  score: number;
  /** In [0, 1]: 0 for normal points, rising with how far the score sits above the recent scores. */
  grade: number;
  /** Every anomalous point (`grade > 0`), also inside an episode that is already going on: never hidden. */
  anomaly: boolean;
  /**
   * The anomaly starts a new episode of its series (the previous one started more than `suppression` of the
   * series' points ago), or violates static bounds. Rules start a new alert only here; NAB reports only these.
   */
  newEpisode: boolean;
  /**
   * The model is calibrated: the forest gives scores (its sample holds `outputAfter` points; KDA: the full 256)
   * AND the grading has seen `warmup` scores and fitted its tail AND, for a named series with normalisation, the
   * series' own baseline is known (its first `warmup` points, 30). Before that `grade` is 0 except for static
   * bounds violations; rules must not raise score-based alerts (issue 8: no alert before calibration; ADR 0305).
   */
  calibrated: boolean;
  /**
   * With per-series normalisation, on anomalous points only: each metric's expected range for this series
   * (its running mean ± `alertDeviation` σ, in the metric's units), by metric index.
   */
  expected?: { low: number; high: number }[];
  /** Per metric, sorted by contribution (descending); metrics outside static bounds come first. */
  attribution: MetricAttribution[];
}

/** Attribution order: larger contribution first, then lower metric index. */
const byContribution = (a: MetricAttribution, b: MetricAttribution): number =>
  b.contribution - a.contribution || a.index - b.index;

export interface AnomalyDetectorOptions {
  forest?: ForestOptionsInput;
  thresholder?: Partial<ThresholderOptions>;
  /**
   * Per-series normalisation before the forest (ADR 0305), on by default (`true` or options): the forest sees each
   * NAMED series' metrics as (x − its mean) / its σ, and a score-based anomaly of a named series also needs a metric
   * `alertDeviation` of its σ from its baseline. The unnamed series (NAB, `nab-score`) is passed through unchanged:
   * one series has no levels to align. `false`: raw values for every series (the KDA behaviour).
   */
  normalize?: boolean | Partial<NormalizerOptions>;
}

/**
 * THE detector of Driftwatch (scoring Lambda, local mode, `nab-score`): a random cut forest plus a thresholder.
 * `process` validates the point (InvalidPointError, state unchanged), scores it with attribution, then updates
 * the forest, then decides. Checkpoints restore a detector that behaves exactly like the original.
 *
 * One detector may serve many devices of a model (the scoring Lambda keeps one per shard and detector key): pass
 * the device id as `series` and the forest and score statistics stay shared while smoothing and alert
 * suppression are per device (ADR 0303). Without `series` the detector is single-series (NAB).
 */
export class AnomalyDetector {
  readonly dimensions: number;
  readonly forest: RandomCutForest;
  readonly thresholder: Thresholder;
  readonly normalizer: SeriesNormalizer | undefined;
  private readonly scaled: Float64Array;
  private readonly high: Float64Array;
  private readonly low: Float64Array;

  constructor(dimensions: number, options: AnomalyDetectorOptions = {}) {
    this.forest = new RandomCutForest(dimensions, options.forest);
    this.thresholder = new Thresholder(options.thresholder);
    this.dimensions = this.forest.dimensions;
    const n = options.normalize;
    this.normalizer =
      n === false
        ? undefined
        : new SeriesNormalizer(
            this.dimensions,
            normalizerOptionsSchema.parse({
              ...defaultNormalizerOptions,
              ...(n === true || n === undefined ? {} : n),
            }),
            this.thresholder.options.maxSeries,
          );
    this.scaled = new Float64Array(this.dimensions);
    this.high = new Float64Array(this.dimensions);
    this.low = new Float64Array(this.dimensions);
  }

  process(point: ArrayLike<number>, series?: string): DetectorResult {
    this.forest.validate(point);
    let input: ArrayLike<number> = point;
    let ready = true;
    let eligible = true;
    const normalizer = series === undefined ? undefined : this.normalizer;
    if (normalizer) {
      ready = normalizer.apply(point, series, this.scaled);
      const gate = normalizer.options.alertDeviation;
      // Forest path of a named series (off by default, ADR 0308): far from the series' long baseline (ADR 0305) and
      // from its short-term level (ADR 0306).
      eligible =
        normalizer.options.forestPath &&
        normalizer.lastDeviation >= gate &&
        normalizer.lastLocalDeviation >= gate;
      for (let i = 0; i < this.dimensions; i++) {
        const z = this.scaled[i];
        this.scaled[i] = z > 1e6 ? 1e6 : z < -1e6 ? -1e6 : z;
      }
      input = this.scaled;
    }
    let score = this.forest.scoreWithAttributionUnchecked(input, this.high, this.low);
    // A series whose baseline is not known yet is neither learned nor graded (its scores would be noise).
    if (ready) this.forest.updateUnchecked(input);
    else score = 0;
    // Local path (ADR 0306): far from the series' own short-term level, in its own residual σ; needs a calibrated model.
    let localGrade = 0;
    const k = normalizer?.options.spikeDeviation ?? 0;
    if (normalizer && k > 0 && ready && score > 0 && this.thresholder.calibrated) {
      const local = normalizer.lastLocalDeviation;
      if (local >= k) localGrade = Math.max(Number.MIN_VALUE, Math.min(1, 1 - Math.exp(-(local - k) / k)));
    }
    const decision = this.thresholder.decide(score, point, series, eligible, localGrade);
    const attribution: MetricAttribution[] = [];
    for (let i = 0; i < this.dimensions; i++) {
      const h = this.high[i];
      const l = this.low[i];
      attribution.push({ index: i, contribution: h + l, direction: h >= l ? "HIGH" : "LOW" });
    }
    const violated = decision.boundsViolations;
    // Without bounds violations (nearly every point) the same order without a closure per point.
    if (violated.length === 0) attribution.sort(byContribution);
    else
      attribution.sort((a, b) => {
        const va = violated.includes(a.index) ? 1 : 0;
        const vb = violated.includes(b.index) ? 1 : 0;
        return vb - va || b.contribution - a.contribution || a.index - b.index;
      });
    for (const i of violated) {
      const entry = attribution.find((a) => a.index === i);
      const b = this.thresholder.options.bounds[i];
      if (entry && b && b.max !== undefined && point[i] > b.max) entry.direction = "HIGH";
      else if (entry && b && b.min !== undefined && point[i] < b.min) entry.direction = "LOW";
    }
    // One literal (no spread); `expected` only on anomalies, undefined otherwise.
    return {
      score,
      grade: decision.grade,
      anomaly: decision.anomaly,
      newEpisode: decision.newEpisode,
      calibrated: ready && score > 0 && this.thresholder.calibrated,
      expected:
        decision.anomaly && normalizer
          ? normalizer.expectedRange(series, normalizer.options.alertDeviation || 4)
          : undefined,
      attribution,
    };
  }

  /** Versioned binary state (format in checkpoint.ts / forest-state.ts); `compress` deflates the body. */
  toCheckpoint(options: { compress?: boolean } = {}): Uint8Array {
    const w = new ByteWriter();
    const header = new TextEncoder().encode(
      JSON.stringify({
        dimensions: this.dimensions,
        forest: this.forest.options,
        thresholder: this.thresholder.options,
        ...(this.normalizer ? { normalize: this.normalizer.options } : {}),
      }),
    );
    w.varint(header.length);
    w.bytes(header);
    writeForest(w, this.forest);
    const state = this.thresholder.state();
    w.varint(state.length);
    for (const v of state) w.f64(v);
    this.thresholder.writeSeries(w);
    this.thresholder.writeRawTail(w);
    w.u8(this.normalizer ? 1 : 0);
    this.normalizer?.write(w);
    return sealCheckpoint(w.finish(), options.compress ?? false);
  }

  static fromCheckpoint(bytes: Uint8Array): AnomalyDetector {
    const { version, reader } = openCheckpoint(bytes);
    try {
      const header = JSON.parse(new TextDecoder().decode(reader.bytes(reader.varint()))) as {
        dimensions: unknown;
        forest: unknown;
        thresholder: unknown;
        normalize?: unknown;
      };
      const dimensions = header.dimensions;
      if (typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1) {
        throw new CheckpointFormatError("checkpoint header has no valid dimensions");
      }
      const forestOptions = forestOptionsSchema.parse(header.forest);
      const thresholderOptions = thresholderOptionsSchema.parse(header.thresholder) as ThresholderOptions;
      const detector = new AnomalyDetector(dimensions, {
        forest: forestOptions,
        thresholder: thresholderOptions,
        // A checkpoint without a normaliser (format ≤ 4, or `normalize: false`) holds raw points: it stays raw.
        normalize: header.normalize !== undefined ? normalizerOptionsSchema.parse(header.normalize) : false,
      });
      const forest = readForest(reader, dimensions, forestOptions);
      (detector as { forest: RandomCutForest }).forest = forest;
      const n = reader.varint();
      const state = new Float64Array(n);
      for (let i = 0; i < n; i++) state[i] = reader.f64();
      detector.thresholder.restore(state, version === CHECKPOINT_VERSION_NO_TAIL);
      if (version > CHECKPOINT_VERSION_NO_SERIES) detector.thresholder.readSeries(reader);
      if (version > CHECKPOINT_VERSION_NO_RAW_TAIL) detector.thresholder.readRawTail(reader);
      if (version > CHECKPOINT_VERSION_NO_NORMALIZER) {
        const has = reader.u8() === 1;
        if (has !== (detector.normalizer !== undefined))
          throw new CheckpointFormatError("checkpoint normaliser section does not match its header");
        detector.normalizer?.read(
          reader,
          version > CHECKPOINT_VERSION_NO_LOCAL,
          version > CHECKPOINT_VERSION_NO_SUSTAINED,
          version > CHECKPOINT_VERSION_NO_INNOVATION,
          version > CHECKPOINT_VERSION_NO_FOLLOW,
        );
      }
      if (reader.remaining !== 0) throw new CheckpointFormatError("checkpoint has trailing bytes");
      return detector;
    } catch (cause) {
      if (cause instanceof CheckpointFormatError) throw cause;
      throw new CheckpointFormatError("checkpoint content is malformed", { cause });
    }
  }
}
