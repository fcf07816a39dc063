import { NabLabelError } from "./errors.ts";

/**
 * The Numenta Anomaly Benchmark scorer (Lavin & Ahmad 2015), implemented from the published rules:
 * probationary period, anomaly windows, scaled sigmoid rewards and penalties, application profiles, one
 * threshold per profile optimized over the whole corpus, and normalization against the null detector.
 */

export interface NabProfile {
  name: string;
  /** A_TP: reward of an early detection inside a window. */
  tp: number;
  /** A_FN: cost of a window without a detection. */
  fn: number;
  /** A_FP: cost of a detection outside every window (scaled by distance after the preceding window). */
  fp: number;
}

export const nabProfiles = {
  standard: { name: "standard", tp: 1.0, fn: 1.0, fp: 0.11 },
  reward_low_FP_rate: { name: "reward_low_FP_rate", tp: 1.0, fn: 1.0, fp: 0.22 },
  reward_low_FN_rate: { name: "reward_low_FN_rate", tp: 1.0, fn: 2.0, fp: 0.11 },
} as const satisfies Record<string, NabProfile>;

export type NabProfileName = keyof typeof nabProfiles;

export interface NabSeries {
  name: string;
  /** Epoch milliseconds, ascending, one per row. */
  times: ArrayLike<number>;
  /** Detector output per row, in [0, 1]. */
  scores: ArrayLike<number>;
  /** Labelled windows as [start, end] epoch milliseconds (inclusive). */
  windows: readonly (readonly [number, number])[];
}

/** NAB's probationary period: 15 % of the series, at most 15 % of 5000 rows. */
export function probationaryLength(rows: number, fraction = 0.15): number {
  return Math.min(Math.floor(fraction * rows), Math.floor(fraction * 5000));
}

/** 2·sigmoid(−5x) − 1, and −1 beyond x = 3 (NAB's scaled sigmoid). */
export function scaledSigmoid(x: number): number {
  if (x > 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** Inclusive row ranges of the windows of a series. */
export function windowRows(series: Pick<NabSeries, "name" | "times" | "windows">): [number, number][] {
  const t = series.times;
  const out: [number, number][] = [];
  for (const [start, end] of series.windows) {
    let a = 0;
    while (a < t.length && t[a] < start) a++;
    let b = t.length - 1;
    while (b >= 0 && t[b] > end) b--;
    if (a > b) throw new NabLabelError(`${series.name}: a window holds no rows`);
    if (out.length > 0 && a <= out[out.length - 1][1])
      throw new NabLabelError(`${series.name}: windows overlap`);
    out.push([a, b]);
  }
  return out;
}

/**
 * Per-row weights of a series for a profile, NAB-style: inside a window, A_TP × scaledSigmoid(−(right − i + 1)/width);
 * outside, A_FP × scaledSigmoid(distance after the preceding window / (width − 1)), or −A_FP with no preceding
 * window. Rows in the probationary period get window −2 (ignored). `window[i]` is the window index or −1.
 */
export function rowWeights(
  rows: number,
  windows: readonly (readonly [number, number])[],
  profile: NabProfile,
  probation: number,
): { weight: Float64Array; window: Int32Array } {
  const weight = new Float64Array(rows);
  const window = new Int32Array(rows).fill(-1);
  let w = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < rows; i++) {
    if (w < windows.length && i >= windows[w][0] && i <= windows[w][1]) {
      const [left, right] = windows[w];
      const width = right - left + 1;
      weight[i] = profile.tp * scaledSigmoid(-(right - i + 1) / width);
      window[i] = w;
      if (i === right) {
        prevRight = right;
        prevWidth = width;
        w++;
      }
    } else {
      const unweighted =
        prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / Math.max(1, prevWidth - 1));
      weight[i] = profile.fp * unweighted;
    }
    if (i < probation) window[i] = -2;
  }
  return { weight, window };
}

export interface NabSeriesResult {
  name: string;
  score: number;
  tp: number;
  fp: number;
  fn: number;
  windows: number;
}

export interface NabProfileResult {
  profile: NabProfileName;
  threshold: number;
  /** Raw score at the optimized threshold. */
  raw: number;
  nullScore: number;
  perfectScore: number;
  /** 100 × (raw − null) / (perfect − null). */
  normalized: number;
  tp: number;
  fp: number;
  fn: number;
  perSeries: NabSeriesResult[];
}

interface Prepared {
  name: string;
  rows: number;
  probation: number;
  windows: [number, number][];
}

/**
 * Scores a corpus for one profile: finds the threshold (detection = score ≥ threshold) that maximizes the summed
 * raw score over all series (or uses `fixedThreshold`), then reports it normalized against the null detector (never detects) and the
 * perfect one (A_TP per window).
 */
export function scoreCorpus(
  series: readonly NabSeries[],
  profileName: NabProfileName,
  /** Use this threshold instead of optimizing one (cross-validation: the threshold chosen on the other folds). */
  fixedThreshold?: number,
): NabProfileResult {
  const profile = nabProfiles[profileName];
  const prepared: Prepared[] = series.map((s) => {
    if (s.scores.length !== s.times.length)
      throw new NabLabelError(`${s.name}: ${s.scores.length} scores for ${s.times.length} rows`);
    return {
      name: s.name,
      rows: s.times.length,
      probation: probationaryLength(s.times.length),
      windows: windowRows(s),
    };
  });

  // Every scorable row of the corpus: its detector score, its weight, its global window id (or -1).
  let total = 0;
  for (const p of prepared) total += p.rows - p.probation;
  const scores = new Float64Array(total);
  const weights = new Float64Array(total);
  const windowIds = new Int32Array(total);
  let windowCount = 0;
  let scoredWindows = 0;
  let n = 0;
  for (let si = 0; si < series.length; si++) {
    const p = prepared[si];
    const { weight, window } = rowWeights(p.rows, p.windows, profile, p.probation);
    const seen = new Set<number>();
    for (let i = p.probation; i < p.rows; i++) {
      scores[n] = clampScore(series[si].scores[i]);
      weights[n] = weight[i];
      windowIds[n] = window[i] >= 0 ? windowCount + window[i] : -1;
      if (window[i] >= 0) seen.add(window[i]);
      n++;
    }
    scoredWindows += seen.size;
    windowCount += p.windows.length;
  }

  const nullScore = -profile.fn * scoredWindows;
  const perfectScore = profile.tp * windowCount;

  // Sweep thresholds from high to low over the sorted scores; a window's credit is its best detection.
  const order = sortDescending(scores);
  const best = new Float64Array(windowCount).fill(-profile.fn);
  let fpSum = 0;
  let tpSum = nullScore;
  let bestScore = nullScore;
  let bestThreshold = 1.1;
  for (let j = 0; j < order.length; j++) {
    const r = order[j];
    const id = windowIds[r];
    if (id < 0) fpSum += weights[r];
    else if (weights[r] > best[id]) {
      tpSum += weights[r] - best[id];
      best[id] = weights[r];
    }
    const threshold = scores[r];
    if (j + 1 < order.length && scores[order[j + 1]] === threshold) continue;
    const s = tpSum + fpSum;
    if (s > bestScore) {
      bestScore = s;
      bestThreshold = threshold;
    }
  }

  if (fixedThreshold !== undefined) bestThreshold = fixedThreshold;

  // Report per series at the chosen threshold.
  const perSeries: NabSeriesResult[] = [];
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let raw = 0;
  for (let si = 0; si < series.length; si++) {
    const p = prepared[si];
    const { weight, window } = rowWeights(p.rows, p.windows, profile, p.probation);
    const credit = new Map<number, number>();
    let score = 0;
    let sfp = 0;
    for (let i = p.probation; i < p.rows; i++) {
      if (window[i] >= 0 && !credit.has(window[i])) credit.set(window[i], -profile.fn);
      if (clampScore(series[si].scores[i]) < bestThreshold) continue;
      if (window[i] >= 0) credit.set(window[i], Math.max(credit.get(window[i]) as number, weight[i]));
      else {
        score += weight[i];
        sfp++;
      }
    }
    let stp = 0;
    let sfn = 0;
    for (const c of credit.values()) {
      score += c;
      if (c === -profile.fn) sfn++;
      else stp++;
    }
    perSeries.push({ name: p.name, score, tp: stp, fp: sfp, fn: sfn, windows: p.windows.length });
    tp += stp;
    fp += sfp;
    fn += sfn;
    raw += score;
  }

  const normalized = perfectScore === nullScore ? 0 : (100 * (raw - nullScore)) / (perfectScore - nullScore);
  return {
    profile: profileName,
    threshold: bestThreshold,
    raw,
    nullScore,
    perfectScore,
    normalized,
    tp,
    fp,
    fn,
    perSeries,
  };
}

function clampScore(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

function sortDescending(scores: Float64Array): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order;
}
