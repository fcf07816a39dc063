import { gunzipSync, gzipSync } from "node:zlib";
import { z } from "zod";
import { RecencyList } from "../shared/recency-list.ts";

/**
 * Stuck-sensor runs per (device, metric) of one shard: the last value, how many consecutive readings repeated it,
 * and how long this metric's repeats normally are. ADR 0605.
 *
 * A run is *stuck* once it is at least `minReadings` long (the threshold rule's `stuckReadings`) AND at least the
 * series' learned bar. The interior bar is the run length the series' own runs reach `falseAlertsPerDay` times a
 * day (a geometric tail fitted to its runs of at least `minReadings`, its continuation probability taken at the upper
 * end of its 95 % Wilson interval; before a few such runs are seen, `factor` × the longest recent run): it keeps
 * quantized metrics (a fan's integer FREQ repeats 30–50 times in a row when
 * nothing is wrong) and constant ones (never a change seen → never stuck) quiet; on continuous metrics it reduces
 * to `minReadings`. On a continuous series, a run at a floor or ceiling it has held before (calm air at 0 m/s) is
 * judged by its own class: `factor` × the longest such run, and only after a day of the series at that bound.
 * Schema v3 snapshot (reads v1 and v2). ADR 0605, "Issue 8: floors, ceilings and the tail bar" and "eighth session".
 *
 * Idempotent under at-least-once delivery: a reading only extends a run when its event time is later than the
 * last counted one, so a retried batch, a redelivered record or a duplicate cannot count twice. Updates are two
 * phase (`evaluate` is pure, `commit` applies), so a record that fails after evaluation leaves no trace and its
 * retry evaluates the same again. Bounded: least recently updated series are dropped beyond `maxSeries`.
 */
export interface StuckTrackerOptions {
  /** A run must exceed this many times the longest recent normal run. Default 3. */
  factor?: number;
  /** Per completed run, the remembered longest run decays by this factor (forgets old long runs). Default 0.999. */
  memory?: number;
  /**
   * Completed runs a series must have shown before it can be stuck (its normal repeats must be known first; a
   * metric that never changed is never stuck). Default 50.
   */
  warmupRuns?: number;
  /** Series kept; least recently updated ones beyond it are forgotten. Default 50,000. */
  maxSeries?: number;
  /**
   * Runs at the series' floor or ceiling (a value equal to the lowest or highest one an earlier run held) learn
   * their own bar, and may be stuck only once this much event time has passed since the series' first completed
   * run there (their lengths follow the measured process's daily cycle, so a full cycle must be seen). Default one
   * day. `false` (experiments only): judge them like every other run, as schema v1 did.
   */
  boundWarmupMs?: number | false;
  /**
   * False stuck alerts per series per day the learned interior bar is set for, once the series' runs of at least
   * `minReadings` are known (`TAIL_RUNS` of them): the bar is the run length the series' own run-length tail
   * (geometric above `minReadings`, fitted to its runs) reaches this often. Default 0.01 (a fifth of issue 8's
   * 0.05 per device per day for all rules). `false` (experiments only): `factor` × the longest run, as in v1.
   */
  falseAlertsPerDay?: number | false;
  /**
   * How sure the interior bar must be that the series' own runs stay under it: the tail's continuation probability is
   * taken at the upper end of its one-sided Wilson score interval at this many standard deviations (a tail fitted to
   * few runs is not trusted at its point estimate). Default 1.645 (95 %); 0 = the maximum-likelihood estimate.
   */
  tailConfidence?: number;
}

export const DEFAULT_STUCK_READINGS = 5;

/** The `stuckReadings` every tail counted before snapshot v3 is taken to be relative to (the default until then). */
const V2_TAIL_BASE = 10;

const DAY_MS = 86_400_000;
/**
 * Decayed count of completed runs of at least `minReadings` before the tail fit replaces `factor` × longest: a few
 * suffice, since the fit's own uncertainty is in its bar (`tailConfidence`). Was 10 with the point estimate.
 */
const TAIL_RUNS = 3;

interface SeriesState {
  /** Last value. */
  v: number;
  /** Readings in the current run (distinct event times). */
  n: number;
  /** Event time (ms) of the last counted reading. */
  t: number;
  /** Event time (ms) of the run's first reading: the run's identity. */
  s: number;
  /** Longest normal (non-alerted) completed run, decayed; 0 = the value never changed yet. */
  l: number;
  /** Completed runs seen, capped at `warmupRuns`. */
  c: number;
  /** The current run has raised its alert. */
  a: boolean;
  /** Lowest and highest value of a completed run (the series' floor and ceiling so far); NaN before the first. */
  lo: number;
  hi: number;
  /** Longest normal completed run at the floor or ceiling, decayed (`l` is then the longest interior one). */
  bl: number;
  /** Event time (ms) the first run at the floor or ceiling completed; NaN before. */
  bf: number;
  /** Interior tail, decayed per completed run: runs of at least `b`, their readings beyond it, and ms. */
  k: number;
  e: number;
  d: number;
  /** The `minReadings` the tail is counted from; another N (a scope's `stuckReadings` changed) starts it afresh. */
  b: number;
}

/** What one reading of one metric does to its series; apply it with `commit` once the record succeeded. */
export interface StuckVerdict {
  key: string;
  deviceId: string;
  metric: string;
  value: number;
  /** Length of the run including this reading. */
  runLength: number;
  /** Event time (ms) of the run's first reading. */
  runStartMs: number;
  /** Run length at which this series counts as stuck now. */
  limit: number;
  /** The run holds the series' floor or ceiling (judged against that class's own bar). */
  atBound: boolean;
  /** This reading makes the run stuck for the first time: raise `stuck:<metric>`. */
  raise: boolean;
  /** The run is (still) stuck after this reading. */
  stuck: boolean;
  next: SeriesState;
}

/** A series in the tracker: its state, and its neighbours from least to most recently updated. */
interface SeriesNode {
  key: string;
  state: SeriesState;
  older: SeriesNode | undefined;
  newer: SeriesNode | undefined;
}

const snapshotV1Schema = z.object({
  v: z.literal(1),
  /** `[key, value, runLength, lastMs, runStartMs, longest, completedRuns, alerted 0|1]`, least recent first. */
  series: z.array(
    z.tuple([z.string(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]),
  ),
});

/** v2 adds the floor and ceiling (null before the first completed run) and their runs' own bar and count. */
const snapshotV2Schema = z.object({
  v: z.literal(2),
  /**
   * v1's tuple, then `floor, ceiling, longestAtBound, firstAtBoundMs` (null: none yet), then the interior tail:
   * `longRuns, readingsBeyond, runMs`.
   */
  series: z.array(
    z.tuple([
      z.string(),
      z.number(),
      z.number(),
      z.number(),
      z.number(),
      z.number(),
      z.number(),
      z.number(),
      z.number().nullable(),
      z.number().nullable(),
      z.number(),
      z.number().nullable(),
      z.number(),
      z.number(),
      z.number(),
    ]),
  ),
});

/** v3 adds the tail's base (the `minReadings` its runs were counted from). */
const snapshotV3Schema = z.object({
  v: z.literal(3),
  series: z.array(z.tuple([...snapshotV2Schema.shape.series.element.items, z.number()])),
});

const snapshotSchema = z.discriminatedUnion("v", [snapshotV1Schema, snapshotV2Schema, snapshotV3Schema]);
type SnapshotRow = z.infer<typeof snapshotV3Schema>["series"][number];

export function stuckKeyOf(shardId: string): string {
  return `stuck/${encodeURIComponent(shardId)}.json.gz`;
}

export class StuckTracker {
  /**
   * Series by key, and a doubly linked list of them from least to most recently updated (the snapshot's order and
   * the eviction order): a commit relinks its series at the newest end instead of deleting and re-adding a map entry.
   */
  private readonly series = new Map<string, SeriesNode>();
  private readonly recency = new RecencyList<SeriesNode>();
  /** The keys of recently evaluated series, by device then metric (no key string built per reading); a cache. */
  private readonly keys = new Map<string, Map<string, string>>();
  private keyCount = 0;
  private readonly factor: number;
  private readonly memory: number;
  private readonly maxSeries: number;
  private readonly warmupRuns: number;
  private readonly boundWarmupMs: number;
  /** NaN: the v1 bar (`factor` × longest). */
  private readonly falseAlertsPerDay: number;
  private readonly bounds: boolean;
  private readonly tailConfidence: number;
  private changed = false;

  constructor(options: StuckTrackerOptions = {}) {
    this.factor = options.factor ?? 3;
    this.memory = options.memory ?? 0.999;
    this.maxSeries = options.maxSeries ?? 50_000;
    this.warmupRuns = Math.max(1, options.warmupRuns ?? 50);
    this.bounds = options.boundWarmupMs !== false;
    this.boundWarmupMs = options.boundWarmupMs === false ? 0 : (options.boundWarmupMs ?? DAY_MS);
    this.falseAlertsPerDay = options.falseAlertsPerDay === false ? NaN : (options.falseAlertsPerDay ?? 0.01);
    this.tailConfidence = Math.max(0, options.tailConfidence ?? 1.645);
  }

  /** Restores a snapshot; unreadable bytes give an empty tracker and the error to report (never fatal). */
  static fromBytes(
    bytes: Uint8Array | undefined,
    options: StuckTrackerOptions = {},
  ): { tracker: StuckTracker; error?: unknown } {
    const tracker = new StuckTracker(options);
    if (!bytes || bytes.length === 0) return { tracker };
    try {
      const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes);
      const snapshot = snapshotSchema.parse(JSON.parse(raw.toString("utf8")));
      for (const row of snapshot.series) {
        // A v1 row knows no floor or ceiling yet: the next completed run starts them. A v2 row's tail was counted
        // from the default N of its time.
        const [key, v, n, t, s, l, c, a, lo, hi, bl, bf, k, e, d, b] = (
          row.length === 8
            ? [...row, null, null, 0, null, 0, 0, 0, V2_TAIL_BASE]
            : row.length === 15
              ? [...row, V2_TAIL_BASE]
              : row
        ) as SnapshotRow;
        const state = {
          v,
          n,
          t,
          s,
          l,
          c,
          a: a === 1,
          lo: lo ?? NaN,
          hi: hi ?? NaN,
          bl,
          bf: bf ?? NaN,
          k,
          e,
          d,
          b,
        };
        tracker.put(key, state, false);
      }
      tracker.evict();
      return { tracker };
    } catch (error) {
      return { tracker: new StuckTracker(options), error };
    }
  }

  get size(): number {
    return this.series.size;
  }

  get dirty(): boolean {
    return this.changed;
  }

  /**
   * What a reading does to its series, without changing anything. `undefined`: nothing (rule disabled, or a
   * duplicate / out-of-order reading that must not count).
   */
  evaluate(
    deviceId: string,
    metric: string,
    value: number,
    eventMs: number,
    minReadings: number,
  ): StuckVerdict | undefined {
    if (!(minReadings > 0)) return undefined;
    const key = this.keyOf(deviceId, metric);
    const prev = this.series.get(key)?.state;
    let next: SeriesState;
    if (!prev) {
      // prettier-ignore
      next = { v: value, n: 1, t: eventMs, s: eventMs, l: 0, c: 0, a: false,
        lo: NaN, hi: NaN, bl: 0, bf: NaN, k: 0, e: 0, d: 0, b: minReadings };
    } else if (eventMs < prev.t || (eventMs === prev.t && Object.is(value, prev.v))) {
      return undefined; // redelivered, duplicated or late: already counted (or older than what we know)
    } else if (!Object.is(value, prev.v)) {
      // The run ended. Learn its length in its class unless it was an alerted run: on a clamped series, a run at
      // or beyond the floor or ceiling so far is a bound run (not an interior one), whether held before or new.
      let { l, bl, bf } = prev;
      // A tail counted from another N says nothing about runs of this one: it starts afresh.
      const sameBase = prev.b === minReadings;
      let k = sameBase ? prev.k * this.memory : 0;
      let e = sameBase ? prev.e * this.memory : 0;
      const d = (sameBase ? prev.d * this.memory : 0) + (eventMs - prev.s);
      if (this.clamped(prev, minReadings) && !(prev.v > prev.lo && prev.v < prev.hi)) {
        if (!prev.a) bl = Math.max(prev.n, bl * this.memory);
        if (Number.isNaN(bf) && (prev.v === prev.lo || prev.v === prev.hi)) bf = prev.t;
      } else if (!prev.a) {
        l = Math.max(prev.n, l * this.memory);
        if (prev.n >= minReadings) {
          k += 1;
          e += prev.n - minReadings;
        }
      }
      const c = Math.min(this.warmupRuns, prev.c + 1);
      const lo = Number.isNaN(prev.lo) ? prev.v : Math.min(prev.lo, prev.v);
      const hi = Number.isNaN(prev.hi) ? prev.v : Math.max(prev.hi, prev.v);
      next = {
        v: value,
        n: 1,
        t: eventMs,
        s: eventMs,
        l,
        c,
        a: false,
        lo,
        hi,
        bl,
        bf,
        k,
        e,
        d,
        b: minReadings,
      };
    } else {
      // prettier-ignore
      next = { v: prev.v, n: prev.n + 1, t: eventMs, s: prev.s, l: prev.l, c: prev.c, a: prev.a,
        lo: prev.lo, hi: prev.hi, bl: prev.bl, bf: prev.bf, k: prev.k, e: prev.e, d: prev.d, b: prev.b };
    }
    const atBound = this.atBound(next, minReadings);
    const limit = atBound
      ? Math.max(minReadings, Math.ceil(this.factor * next.bl))
      : this.interiorLimit(next, minReadings);
    const stuck =
      next.c >= this.warmupRuns && (!atBound || eventMs - next.bf >= this.boundWarmupMs) && next.n >= limit;
    const raise = stuck && !next.a;
    if (raise) next.a = true;
    return {
      key,
      deviceId,
      metric,
      value,
      runLength: next.n,
      runStartMs: next.s,
      limit,
      atBound,
      raise,
      stuck,
      next,
    };
  }

  /** Applies verdicts of a record that was processed successfully. */
  commit(verdicts: readonly StuckVerdict[]): void {
    for (const v of verdicts) this.put(v.key, v.next, true);
    if (verdicts.length > 0) {
      this.changed = true;
      this.evict();
    }
  }

  toBytes(): Uint8Array {
    this.changed = false;
    const series: SnapshotRow[] = [];
    for (let node = this.recency.oldest; node; node = node.newer) {
      const s = node.state;
      series.push([
        node.key,
        s.v,
        s.n,
        s.t,
        s.s,
        round(s.l),
        s.c,
        s.a ? 1 : 0,
        Number.isNaN(s.lo) ? null : s.lo,
        Number.isNaN(s.hi) ? null : s.hi,
        round(s.bl),
        Number.isNaN(s.bf) ? null : s.bf,
        round(s.k),
        round(s.e),
        Math.round(s.d),
        s.b,
      ]);
    }
    return gzipSync(Buffer.from(JSON.stringify({ v: 3, series }), "utf8"));
  }

  /**
   * The run holds the lowest or highest value an earlier run held, on a series whose other values hardly repeat
   * (its learned interior bar is the threshold rule's own N): the series is clamped there — the quantity went
   * beyond the sensor's range (calm air at 0 m/s, a closed valve, a full tank) and can rest there for as long as
   * the process does. A quantized series (every value repeats; its extremes are just its rarest levels) keeps one
   * bar for all its runs.
   */
  private atBound(state: SeriesState, minReadings: number): boolean {
    return this.clamped(state, minReadings) && (state.v === state.lo || state.v === state.hi);
  }

  /**
   * The interior bar. Once the series has shown `TAIL_RUNS` (decayed) runs of at least `minReadings`: the length its
   * own runs exceed `falseAlertsPerDay` times a day, from a geometric tail fitted to them and their rate per day
   * (k over the decayed time the runs took). The continuation probability is the upper end of the one-sided Wilson
   * score interval around its maximum-likelihood fit e / (e + k) (e readings beyond `minReadings` continued a run,
   * k ended one), so a tail seen in few runs gets a safe bar, and one seen in many gets the fit. A series whose
   * runs rarely reach `minReadings` is at the threshold rule's N; before the fit, `factor` × the longest recent run.
   */
  private interiorLimit(state: SeriesState, minReadings: number): number {
    if (Number.isNaN(this.falseAlertsPerDay) || state.k < TAIL_RUNS || state.b !== minReadings) {
      return Math.max(minReadings, Math.ceil(this.factor * state.l));
    }
    const perDay = (state.k * DAY_MS) / state.d;
    if (perDay <= this.falseAlertsPerDay) return minReadings;
    const q = wilsonUpper(state.e, state.e + state.k, this.tailConfidence);
    if (q <= 0) return minReadings + 1;
    return minReadings + Math.ceil(Math.log(this.falseAlertsPerDay / perDay) / Math.log(q));
  }

  /** Bounds are told apart on this series: its interior runs are short (its interior bar is the rule's own N). */
  private clamped(state: SeriesState, minReadings: number): boolean {
    return this.bounds && Math.ceil(this.factor * state.l) <= minReadings;
  }

  private evict(): void {
    while (this.series.size > this.maxSeries && this.recency.oldest) {
      const oldest = this.recency.oldest;
      this.recency.unlink(oldest);
      this.series.delete(oldest.key);
    }
  }

  /** `${deviceId}\u0000${metric}`, the same string object again for a series evaluated before (bounded cache). */
  private keyOf(deviceId: string, metric: string): string {
    let metrics = this.keys.get(deviceId);
    const known = metrics?.get(metric);
    if (known !== undefined) return known;
    if (this.keyCount >= this.maxSeries) {
      this.keys.clear();
      this.keyCount = 0;
      metrics = undefined;
    }
    if (!metrics) {
      metrics = new Map();
      this.keys.set(deviceId, metrics);
    }
    const key = `${deviceId}\u0000${metric}`;
    metrics.set(metric, key);
    this.keyCount += 1;
    return key;
  }

  /**
   * Sets a series' state. `touch`: it becomes the most recently updated (a commit, like deleting and re-adding the
   * map entry); otherwise a known series keeps its place (like `Map.set` on a key it has: a snapshot's repeat).
   */
  private put(key: string, state: SeriesState, touch: boolean): void {
    const node = this.series.get(key);
    if (node) {
      node.state = state;
      if (touch) this.recency.touch(node);
      return;
    }
    const added: SeriesNode = { key, state, older: undefined, newer: undefined };
    this.series.set(key, added);
    this.recency.append(added);
  }
}

/** Upper end of the Wilson score interval for `successes` of `trials` (decayed counts allowed) at `z` deviations. */
function wilsonUpper(successes: number, trials: number, z: number): number {
  const p = successes / trials;
  const z2n = (z * z) / trials;
  return Math.min(1, (p + z2n / 2 + z * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials))) / (1 + z2n));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
