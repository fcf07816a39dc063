/**
 * Innovation path (issue 8, ADR 0310): per series and metric, a local-level filter whose gain is learned from the
 * series itself — adapted until the filter's one-step prediction errors (innovations) are uncorrelated, which is the
 * steady-state Kalman gain of a local-level-plus-noise model (for that model, and only at that gain, the innovations
 * are white). A wandering metric (fan `FREQ`: slow wander, white and rounding noise) gets a higher gain than the
 * fixed short-term level's 0.1, so its innovations carry the noise only, and a persistent change shows up as a
 * run of same-signed innovations that decays as (1 − K)ᵗ: the statistic is an EW mean of the innovations over that
 * same horizon (weight K), graded in its own σ learned on the series, like the sustained path (ADR 0309).
 *
 * Pure functions over one metric's slice of a Float64Array (`INNOVATION_STATE` numbers), so the normaliser keeps
 * the state of all its series in flat arrays and checkpoints it as-is (format 8).
 */

/**
 * Step of the gain's log per reading, times the lag-1 product of standardised innovations (ADR 0310): the gain
 * averages that product over ≈ 1 / 0.005 = 200 readings. Measured on the fleet replay (0.0025 and 0.01 each had
 * false alerts on seed 11), not derived.
 */
export const INNOVATION_ADAPT = 0.005;
/** The EW mean of the innovations has weight 2K (ADR 0310: measured; K itself reacted later within 60 readings). */
export const INNOVATION_MEAN_FACTOR = 2;
/** Numbers of state per metric (format 9; ADR 0311 added the follow state). */
export const INNOVATION_STATE = 7;
/** Numbers of state per metric in format 8 (no follow state). */
export const INNOVATION_STATE_V8 = 6;
/** Gain before the series has taught one (the fixed short-term level's weight, ADR 0306). */
export const INITIAL_GAIN = 0.1;
/** Bounds of the learned gain. */
export const MIN_GAIN = 0.005;
export const MAX_GAIN = 1;
/** Points of the path before its innovation σ is trusted (as the local path). */
export const INNOVATION_WARMUP = 100;
/** Points before the σ of its EW mean is trusted (as the sustained path, ADR 0309). */
export const INNOVATION_MEAN_WARMUP = 300;

const GAIN = 0;
const LEVEL = 1;
const VAR = 2;
const PREV = 3;
const MEAN = 4;
const MEAN_VAR = 5;
/** The level's `followState` (ADR 0311). */
const FOLLOW = 6;

export interface InnovationSettings {
  /** Step of the gain's log per reading, times the lag-1 product of standardised innovations. 0: gain fixed. */
  adapt: number;
  /** The EW mean's weight as a multiple of the learned gain (0: no EW mean). */
  meanFactor: number;
  /** Whether the single standardised innovation is graded too. */
  single: boolean;
  /** Winsorising limit, in σ (the normaliser's `clip`). */
  clip: number;
  /** Whether the level follows a flagged change (`followState`, ADR 0311). */
  follow: boolean;
  /** The bar of `followState`, in σ (the normaliser's `spikeDeviation`, at least `clip`). */
  followAt: number;
}

function sd(variance: number, level: number): number {
  const s = Math.sqrt(variance > 0 ? variance : 0);
  const floor = Math.max(1e-4 * Math.abs(level), 1e-9);
  return s > floor ? s : floor;
}

/** `followState` value (times the change's sign) while a level follows a change. */
export const FOLLOWING = 2;

/**
 * Following a flagged change (ADR 0311), for a level and its residual r = x − level: `state` 0 = the last residual
 * was inside the bar `at`; ±1 = it passed the bar on that side; ±`FOLLOWING` = the level is following a change on
 * that side. Returns the next state: ±`FOLLOWING` when this residual passes the bar on the side the previous one
 * did (two flagged readings in a row: the series has moved, not spiked) or when the level already follows and the
 * series goes on moving that way; the caller then sets the level to the value. A single outlier only yields ±1.
 */
export function followState(state: number, r: number, at: number): number {
  const side = r > at ? 1 : r < -at ? -1 : 0;
  const dir = r > 0 ? 1 : r < 0 ? -1 : 0;
  if (dir !== 0 && state === FOLLOWING * dir) return state;
  if (side !== 0 && state === side) return FOLLOWING * side;
  return side;
}

/** The learned gain K of the metric whose state starts at `o`. */
export function innovationGainOf(st: Float64Array, o: number): number {
  return st[o + GAIN];
}

/** Starts a metric's state at its first value. */
export function innovationStart(st: Float64Array, o: number, x: number): void {
  st[o + GAIN] = INITIAL_GAIN;
  st[o + LEVEL] = x;
  st[o + VAR] = 0;
  st[o + PREV] = 0;
  st[o + MEAN] = 0;
  st[o + MEAN_VAR] = 0;
  st[o + FOLLOW] = 0;
}

/**
 * One reading x of a metric whose state starts at `o`; `n` = points the path has seen for the series before this
 * one (≥ 1), `va` = the weight of a new squared value in the variances. Returns the larger of the graded
 * statistics in their own σ (0 while warming up).
 */
export function innovationStep(
  st: Float64Array,
  o: number,
  x: number,
  n: number,
  va: number,
  s: InnovationSettings,
): number {
  const k = st[o + GAIN];
  const level = st[o + LEVEL];
  const isd = sd(st[o + VAR], level);
  let v = x - level;
  const ready = n >= INNOVATION_WARMUP;
  let out = 0;
  let moved = false;
  if (ready) {
    const z = v / isd;
    if (s.single) out = z < 0 ? -z : z;
    const lim = s.clip * isd;
    if (s.follow) {
      const next = followState(st[o + FOLLOW], v, s.followAt * isd);
      st[o + FOLLOW] = next;
      moved = next === FOLLOWING || next === -FOLLOWING;
    }
    v = v > lim ? lim : v < -lim ? -lim : v;
  }
  const u = v / isd;
  if (s.adapt > 0 && n >= 2) {
    // Positively correlated innovations: the level lags the series (gain too low); negative: it chases noise.
    let c = u * st[o + PREV];
    c = c > s.clip ? s.clip : c < -s.clip ? -s.clip : c;
    let g = k * Math.exp(s.adapt * c);
    g = g < MIN_GAIN ? MIN_GAIN : g > MAX_GAIN ? MAX_GAIN : g;
    st[o + GAIN] = g;
  }
  st[o + PREV] = u;
  if (s.meanFactor > 0 && ready) {
    let w = s.meanFactor * k;
    if (w > 1) w = 1;
    const m = (1 - w) * st[o + MEAN] + w * v;
    st[o + MEAN] = m;
    const msd = sd(st[o + MEAN_VAR], level);
    if (n >= INNOVATION_MEAN_WARMUP) {
      const z = m / msd;
      const az = z < 0 ? -z : z;
      if (az > out) out = az;
    }
    const lim = s.clip * msd;
    const fed = n >= INNOVATION_MEAN_WARMUP ? (m > lim ? lim : m < -lim ? -lim : m) : m;
    st[o + MEAN_VAR] = (1 - va) * st[o + MEAN_VAR] + va * fed * fed;
  }
  st[o + VAR] = (1 - va) * st[o + VAR] + va * v * v;
  // ADR 0311: a followed change moves the level to the value; the EW mean measured the old level's offset.
  st[o + LEVEL] = moved ? x : level + k * v;
  if (moved) st[o + MEAN] = 0;
  return out;
}
