/** Fewest windowed scores for a tail fit, and fewest excesses for a moment fit. */
const MIN_TAIL_WINDOW = 20;
const MIN_EXCESSES = 5;

/**
 * The tail of a stream of recent scores (peaks over threshold, as in SPOT, Siffer et al. 2017): a ring of the last
 * `window.length` scores and a generalized Pareto distribution fitted to their excesses over a quantile,
 * P(X > x) = fraction · (1 + shape·(x − threshold)/scale)^(−1/shape) above the threshold.
 * The ring's element type is the caller's: float64 for the smoothed scores, float32 for the raw scores (half the
 * checkpoint size; fits and restores are exact either way because the stored values are what is fitted).
 */
export class ScoreTail {
  head = 0;
  count = 0;
  threshold = Infinity;
  shape = 0;
  scale = 1;
  fraction = 0;

  constructor(readonly window: Float64Array | Float32Array) {}

  push(value: number): void {
    this.window[this.head] = value;
    this.head = (this.head + 1) % this.window.length;
    if (this.count < this.window.length) this.count++;
  }

  /** P(X > x) under the fitted tail; 1 at or below the tail threshold or before any fit. */
  probability(x: number): number {
    const t = this.threshold;
    if (!(x > t)) return 1;
    const y = x - t;
    if (Math.abs(this.shape) < 1e-6) return this.fraction * Math.exp(-y / this.scale);
    const base = 1 + (this.shape * y) / this.scale;
    if (base <= 0) return 0; // beyond the end of a bounded tail
    return this.fraction * Math.pow(base, -1 / this.shape);
  }

  /**
   * Refits on the window: threshold = its `quantile`, then a generalized Pareto distribution fitted to the
   * excesses by the method of moments (shape = ½(1 − m²/v), scale = ½·m·(m²/v + 1)). With `lightest` 0, a
   * fitted shape below 0 (a bounded tail: anything beyond its end has probability 0, so every new maximum would
   * pass) is replaced by the exponential tail with the same mean excess (shape 0, scale m). `scratch` holds at
   * least the window's length.
   */
  fit(quantile: number, scratch: Float64Array, lightest = -Infinity): void {
    const n = this.count;
    if (n < MIN_TAIL_WINDOW) {
      this.threshold = Infinity;
      return;
    }
    // Oldest first, so that a restored tail (window stored in that order) sums identically.
    // The ring's filled part, oldest first, is [oldest, end) then [0, rest): two plain runs, no `%` per value.
    const window = this.window;
    const w = window.length;
    const oldest = (this.head - n + w) % w;
    const end = Math.min(w, oldest + n);
    const rest = n - (end - oldest);
    for (let i = oldest; i < end; i++) scratch[i - oldest] = window[i];
    for (let i = 0; i < rest; i++) scratch[end - oldest + i] = window[i];
    const t = selectKth(scratch, n, Math.floor(quantile * (n - 1)));
    let count = 0;
    let sum = 0;
    let max = t;
    for (let run = 0; run < 2; run++) {
      const from = run === 0 ? oldest : 0;
      const to = run === 0 ? end : rest;
      for (let i = from; i < to; i++) {
        const v = window[i];
        if (v > t) {
          count++;
          sum += v - t;
          if (v > max) max = v;
        }
      }
    }
    this.threshold = t;
    this.fraction = count / n;
    if (count < MIN_EXCESSES) {
      this.shape = 0;
      this.scale = Math.max(1e-9, max - t || 1e-3);
      return;
    }
    const m = sum / count;
    let squares = 0;
    for (let run = 0; run < 2; run++) {
      const from = run === 0 ? oldest : 0;
      const to = run === 0 ? end : rest;
      for (let i = from; i < to; i++) {
        const v = window[i];
        if (v > t) squares += (v - t - m) * (v - t - m);
      }
    }
    const variance = squares / count;
    if (!(variance > 0)) {
      this.shape = 0;
      this.scale = Math.max(m, 1e-9);
      return;
    }
    const r = (m * m) / variance;
    this.shape = 0.5 * (1 - r);
    this.scale = 0.5 * m * (r + 1);
    if (this.shape < lightest) {
      this.shape = 0;
      this.scale = Math.max(m, 1e-9);
    }
  }

  /** Forgets the window and the fit (no tail test passes until it is refitted on 20 new scores). */
  clear(): void {
    this.window.fill(0);
    this.head = 0;
    this.count = 0;
    this.threshold = Infinity;
    this.shape = 0;
    this.scale = 1;
    this.fraction = 0;
  }

  /** The filled part of the window, oldest first. */
  values(): number[] {
    const w = this.window.length;
    const oldest = (this.head - this.count + w) % w;
    const out: number[] = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.window[(oldest + i) % w];
    return out;
  }

  /** Restores a window from `values()` (oldest first, ending just before `head`) and a fit. */
  load(values: ArrayLike<number>, head: number, fit: ArrayLike<number>): void {
    const n = values.length;
    const w = this.window.length;
    this.window.fill(0);
    this.count = n;
    this.head = head;
    [this.threshold, this.shape, this.scale, this.fraction] = [fit[0], fit[1], fit[2], fit[3]];
    for (let i = 0; i < n; i++) this.window[(head - n + i + w) % w] = values[i];
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
