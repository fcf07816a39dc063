import { gunzipSync, gzipSync } from "node:zlib";
import { z } from "zod";
import { RecencyList } from "../shared/recency-list.ts";

/**
 * Stuck-sensor runs per (device, metric) of one shard: the last value, how many consecutive readings repeated it,
 * and how long this metric's repeats normally are. ADR 0605.
 *
 * A run is *stuck* once it is at least `minReadings` long (the threshold rule's `stuckReadings`) AND longer than
 * `factor` × the longest normal run seen recently on the same series. The second condition keeps quantized
 * metrics (a fan's integer FREQ repeats 30–50 times in a row when nothing is wrong) and constant ones (never a
 * change seen → never stuck) quiet; on continuous metrics it reduces to `minReadings`.
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
}

export const DEFAULT_STUCK_READINGS = 10;

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

const snapshotSchema = z.object({
  v: z.literal(1),
  /** `[key, value, runLength, lastMs, runStartMs, longest, completedRuns, alerted 0|1]`, least recent first. */
  series: z.array(
    z.tuple([z.string(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]),
  ),
});

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
  private changed = false;

  constructor(options: StuckTrackerOptions = {}) {
    this.factor = options.factor ?? 3;
    this.memory = options.memory ?? 0.999;
    this.maxSeries = options.maxSeries ?? 50_000;
    this.warmupRuns = Math.max(1, options.warmupRuns ?? 50);
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
      for (const [key, v, n, t, s, l, c, a] of snapshot.series) {
        tracker.put(key, { v, n, t, s, l, c, a: a === 1 }, false);
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
      next = { v: value, n: 1, t: eventMs, s: eventMs, l: 0, c: 0, a: false };
    } else if (eventMs < prev.t || (eventMs === prev.t && Object.is(value, prev.v))) {
      return undefined; // redelivered, duplicated or late: already counted (or older than what we know)
    } else if (!Object.is(value, prev.v)) {
      // The run ended. Learn its length unless it was an alerted (stuck) run.
      const l = prev.a ? prev.l : Math.max(prev.n, prev.l * this.memory);
      const c = Math.min(this.warmupRuns, prev.c + 1);
      next = { v: value, n: 1, t: eventMs, s: eventMs, l, c, a: false };
    } else {
      next = { v: prev.v, n: prev.n + 1, t: eventMs, s: prev.s, l: prev.l, c: prev.c, a: prev.a };
    }
    const limit = Math.max(minReadings, Math.ceil(this.factor * next.l));
    const stuck = next.c >= this.warmupRuns && next.n >= limit;
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
    const series: [string, number, number, number, number, number, number, number][] = [];
    for (let node = this.recency.oldest; node; node = node.newer) {
      const s = node.state;
      series.push([node.key, s.v, s.n, s.t, s.s, round(s.l), s.c, s.a ? 1 : 0]);
    }
    return gzipSync(Buffer.from(JSON.stringify({ v: 1, series }), "utf8"));
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

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
