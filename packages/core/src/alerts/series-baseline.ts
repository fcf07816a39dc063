import { RecencyList } from "../shared/recency-list.ts";

/**
 * The usual range of each (device, metric) series, for alert text ("expected 48.2..51.9"): an exponentially
 * weighted mean and variance over the series' recent readings (about the last `1 / alpha` readings). Kept in
 * memory per scorer (not checkpointed): after a cold start a series has no range until `minReadings` readings,
 * and alerts then name values without an expected range. Bounded: the least recently updated series beyond
 * `maxSeries` are forgotten.
 */
export interface SeriesBaselineOptions {
  /** Weight of each new reading. Default 0.02 (about the last 50 readings). */
  alpha?: number;
  /** Readings before a series has a range. Default 20. */
  minReadings?: number;
  /** Half-width of the usual range in standard deviations. Default 4. */
  sigmas?: number;
  /** Series kept. Default 50,000. */
  maxSeries?: number;
}

interface Moments {
  n: number;
  mean: number;
  variance: number;
  /** Its series (to forget it from `series`), and its neighbours in least-recently-updated order. */
  deviceId: string;
  metric: string;
  older: Moments | undefined;
  newer: Moments | undefined;
}

export interface UsualRange {
  min: number;
  max: number;
}

/**
 * Series by device, then metric (no key string per reading), and a doubly linked list of them from least to most
 * recently updated: an update relinks its series at the newest end instead of deleting and re-adding a map entry
 * (which left a hole per reading and rebuilt the map's table every few dozen readings). Eviction order is the same:
 * the least recently updated series goes first.
 */
export class SeriesBaseline {
  private readonly series = new Map<string, Map<string, Moments>>();
  private count = 0;
  private readonly recency = new RecencyList<Moments>();
  private readonly alpha: number;
  private readonly minReadings: number;
  private readonly sigmas: number;
  private readonly maxSeries: number;

  constructor(options: SeriesBaselineOptions = {}) {
    this.alpha = options.alpha ?? 0.02;
    this.minReadings = options.minReadings ?? 20;
    this.sigmas = options.sigmas ?? 4;
    this.maxSeries = options.maxSeries ?? 50_000;
  }

  get size(): number {
    return this.count;
  }

  /** The usual range of the series before the reading being judged; undefined until it has one. */
  range(deviceId: string, metric: string): UsualRange | undefined {
    const m = this.series.get(deviceId)?.get(metric);
    if (!m || m.n < this.minReadings) return undefined;
    const half = this.sigmas * Math.sqrt(m.variance);
    return { min: m.mean - half, max: m.mean + half };
  }

  /** Adds a reading (after it was judged). Non-finite values are ignored. */
  update(deviceId: string, metric: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let metrics = this.series.get(deviceId);
    let m = metrics?.get(metric);
    if (m) {
      this.recency.unlink(m);
    } else {
      if (this.count >= this.maxSeries && this.recency.oldest) {
        this.forget(this.recency.oldest);
        metrics = this.series.get(deviceId);
      }
      m = { n: 0, mean: value, variance: 0, deviceId, metric, older: undefined, newer: undefined };
      if (!metrics) {
        metrics = new Map();
        this.series.set(deviceId, metrics);
      }
      metrics.set(metric, m);
      this.count += 1;
    }
    this.recency.append(m);
    // Once the series has a range, a reading outside it feeds the moments at the range's edge (winsorized), so a
    // spike does not widen the range the next alerts quote; a lasting change still moves it within ~1/alpha readings.
    let x = value;
    if (m.n >= this.minReadings) {
      // (A floor of 1 % of the level, so a constant series can still move.)
      const half = Math.max(this.sigmas * Math.sqrt(m.variance), 0.01 * Math.abs(m.mean), 1e-9);
      x = Math.min(m.mean + half, Math.max(m.mean - half, value));
    }
    m.n += 1;
    // Exact mean and variance while warming up, then exponentially weighted.
    const a = Math.max(this.alpha, 1 / m.n);
    const d = x - m.mean;
    m.mean += a * d;
    m.variance = (1 - a) * (m.variance + a * d * d);
  }

  /** Removes a series altogether (the least recently updated one, beyond `maxSeries`). */
  private forget(m: Moments): void {
    this.recency.unlink(m);
    const metrics = this.series.get(m.deviceId);
    metrics?.delete(m.metric);
    if (metrics?.size === 0) this.series.delete(m.deviceId);
    this.count -= 1;
  }
}
