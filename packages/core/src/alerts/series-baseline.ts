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
}

export interface UsualRange {
  min: number;
  max: number;
}

export class SeriesBaseline {
  private readonly series = new Map<string, Moments>();
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
    return this.series.size;
  }

  /** The usual range of the series before the reading being judged; undefined until it has one. */
  range(deviceId: string, metric: string): UsualRange | undefined {
    const m = this.series.get(keyOf(deviceId, metric));
    if (!m || m.n < this.minReadings) return undefined;
    const half = this.sigmas * Math.sqrt(m.variance);
    return { min: m.mean - half, max: m.mean + half };
  }

  /** Adds a reading (after it was judged). Non-finite values are ignored. */
  update(deviceId: string, metric: string, value: number): void {
    if (!Number.isFinite(value)) return;
    const key = keyOf(deviceId, metric);
    let m = this.series.get(key);
    if (m) {
      this.series.delete(key);
    } else {
      m = { n: 0, mean: value, variance: 0 };
      if (this.series.size >= this.maxSeries) {
        const oldest = this.series.keys().next().value;
        if (oldest !== undefined) this.series.delete(oldest);
      }
    }
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
    this.series.set(key, m);
  }
}

function keyOf(deviceId: string, metric: string): string {
  return `${deviceId}\u0000${metric}`;
}
