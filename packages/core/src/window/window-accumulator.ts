import { DriftwatchError } from "../shared/errors.ts";
import {
  emptyAggregate,
  mergeAggregates,
  observe,
  observeValue,
  type MetricAggregate,
  type Observation,
} from "./aggregate.ts";

/**
 * The aggregates of one shard's current tumbling window, carried between invocations in Lambda's window
 * `state` (a string map, at most 1 MB per shard).
 *
 * The state is a SEGMENT of the window: the aggregates of the records since the window opened or since the last
 * flush. When the encoded state could exceed `budgetBytes`, the caller flushes the segment to the metrics store
 * as a partial (keyed by window, shard and the sequence number of the segment's first record) and continues with
 * an empty segment; the store merges the parts exactly (see `stored-part.ts`).
 *
 * The flush decision depends only on WHICH series (device, metric) the segment holds, never on values or on
 * how Lambda cut the batches: `boundBytes` is an upper bound of the encoded size computed from key lengths and
 * the widest possible number. So every attempt (retries, bisected batches, a restart from a checkpoint) cuts the
 * segments at the same records and writes the same part keys; a retried flush overwrites its own part.
 */

export const STATE_FORMAT_VERSION = "1";

/** Lambda's documented cap on tumbling-window state per shard. */
export const LAMBDA_STATE_LIMIT_BYTES = 1024 * 1024;

/** Default budget: well under the cap, leaving room for the envelope of the state map. */
export const DEFAULT_STATE_BUDGET_BYTES = 900 * 1024;

/** Widest `String(number)` of a double, e.g. `-1.2345678901234567e-308`. */
const MAX_DOUBLE_CHARS = 24;
/** Per series: count and anomalies (≤ 10 digits each), 6 doubles, 2 epoch-ms times (≤ 17 chars), 11 separators. */
const SERIES_FIXED_BYTES = 10 + 10 + 6 * MAX_DOUBLE_CHARS + 2 * 17 + 11 + 1;
/** The state map around the data: keys, quotes, version, window start, first sequence number (≤ 128 chars). */
const ENVELOPE_BYTES = 256;

export interface SeriesAggregate {
  deviceId: string;
  metric: string;
  agg: MetricAggregate;
}

export interface WindowSegment {
  /** Sequence number of the first record aggregated in this segment (the part key). */
  firstSequenceNumber: string;
  /** Records aggregated in this segment. */
  records: number;
  series: SeriesAggregate[];
}

const enc = (s: string) => encodeURIComponent(s);
/** `decodeURIComponent`, skipped for text without an escape (where it returns the text unchanged). */
const dec = (s: string) => (s.includes("%") ? decodeURIComponent(s) : s);

export class WindowAccumulator {
  private readonly devices = new Map<string, Map<string, MetricAggregate>>();
  private firstSeq = "";
  private recordCount = 0;
  private bound = ENVELOPE_BYTES;

  constructor(
    readonly windowStartMs: number,
    readonly budgetBytes: number = DEFAULT_STATE_BUDGET_BYTES,
  ) {
    if (budgetBytes > LAMBDA_STATE_LIMIT_BYTES)
      throw new RangeError("state budget exceeds Lambda's 1 MB cap");
  }

  /** Restores the segment from Lambda's `state` (empty or missing state = a fresh window). */
  static fromState(
    state: Record<string, unknown> | undefined | null,
    windowStartMs: number,
    budgetBytes?: number,
  ): WindowAccumulator {
    const acc = new WindowAccumulator(windowStartMs, budgetBytes);
    if (!state || Object.keys(state).length === 0) return acc;
    if (String(state.v) !== STATE_FORMAT_VERSION) {
      throw new WindowStateFormatError(`unsupported window state version "${String(state.v)}"`);
    }
    if (Number(state.w) !== windowStartMs) {
      // Lambda hands the state of the same window only; anything else is a different window's leftovers.
      return acc;
    }
    acc.firstSeq = String(state.f ?? "");
    acc.recordCount = Number(state.n ?? 0);
    const data = String(state.d ?? "");
    if (data === "") return acc;
    for (const deviceRow of data.split(";")) {
      const fields = deviceRow.split("|");
      const deviceId = dec(fields[0]);
      for (let i = 1; i < fields.length; i++) {
        const parts = fields[i].split(",");
        if (parts.length !== 11) throw new WindowStateFormatError("malformed series in window state");
        // (Field by field: no copied and mapped array per series.)
        acc.put(deviceId, dec(parts[0]), {
          count: Number(parts[1]),
          sum: Number(parts[2]),
          min: Number(parts[3]),
          max: Number(parts[4]),
          mean: Number(parts[5]),
          m2: Number(parts[6]),
          firstEventMs: Number(parts[7]),
          lastEventMs: Number(parts[8]),
          maxScore: Number(parts[9]),
          anomalies: Number(parts[10]),
        });
      }
    }
    return acc;
  }

  get isEmpty(): boolean {
    return this.recordCount === 0;
  }

  get records(): number {
    return this.recordCount;
  }

  get seriesCount(): number {
    let n = 0;
    for (const metrics of this.devices.values()) n += metrics.size;
    return n;
  }

  /** Upper bound of `JSON.stringify(toState())` in bytes (deterministic in the set of series held). */
  get boundBytes(): number {
    return this.bound;
  }

  /** Bytes the bound would grow by if `deviceId`/`metric` were added now. */
  growthIfAdded(deviceId: string, metric: string): number {
    const metrics = this.devices.get(deviceId);
    if (metrics?.has(metric)) return 0;
    return (metrics ? 0 : enc(deviceId).length + 1) + enc(metric).length + SERIES_FIXED_BYTES;
  }

  /** True if adding these series would push the encoded state past the budget: flush first. */
  wouldExceed(deviceId: string, metrics: readonly string[]): boolean {
    let growth = 0;
    const known = this.devices.get(deviceId);
    if (!known) growth += enc(deviceId).length + 1;
    for (const metric of metrics) {
      if (!known?.has(metric)) growth += enc(metric).length + SERIES_FIXED_BYTES;
    }
    return growth > 0 && this.bound + growth > this.budgetBytes;
  }

  /** Starts a record: remembers the segment's first sequence number. Call once per record, before `add`. */
  beginRecord(sequenceNumber: string): void {
    if (this.recordCount === 0) this.firstSeq = sequenceNumber;
    this.recordCount += 1;
  }

  add(deviceId: string, metric: string, obs: Observation): void {
    let metrics = this.devices.get(deviceId);
    if (!metrics) {
      metrics = new Map();
      this.devices.set(deviceId, metrics);
      this.bound += enc(deviceId).length + 1;
    }
    let agg = metrics.get(metric);
    if (!agg) {
      agg = emptyAggregate();
      metrics.set(metric, agg);
      this.bound += enc(metric).length + SERIES_FIXED_BYTES;
    }
    observe(agg, obs);
  }

  /**
   * `add` for every metric of one record (`metrics[i]` observed `values[i]`; an anomaly where `anomalous` has the
   * metric), with one lookup of the device and no observation objects.
   */
  addRecord(
    deviceId: string,
    metrics: readonly string[],
    values: readonly number[],
    eventMs: number,
    score: number,
    anomalous: ReadonlySet<string>,
  ): void {
    let known = this.devices.get(deviceId);
    if (!known) {
      known = new Map();
      this.devices.set(deviceId, known);
      this.bound += enc(deviceId).length + 1;
    }
    for (let i = 0; i < metrics.length; i++) {
      const metric = metrics[i];
      let agg = known.get(metric);
      if (!agg) {
        agg = emptyAggregate();
        known.set(metric, agg);
        this.bound += enc(metric).length + SERIES_FIXED_BYTES;
      }
      observeValue(agg, values[i], eventMs, score, anomalous.size > 0 && anomalous.has(metric));
    }
  }

  private put(deviceId: string, metric: string, agg: MetricAggregate): void {
    let metrics = this.devices.get(deviceId);
    if (!metrics) {
      metrics = new Map();
      this.devices.set(deviceId, metrics);
      this.bound += enc(deviceId).length + 1;
    }
    const existing = metrics.get(metric);
    if (!existing) this.bound += enc(metric).length + SERIES_FIXED_BYTES;
    metrics.set(metric, existing ? mergeAggregates(existing, agg) : agg);
  }

  deviceIds(): string[] {
    return [...this.devices.keys()];
  }

  /** The current segment (insertion order), without resetting. */
  segment(): WindowSegment {
    const series: SeriesAggregate[] = [];
    for (const [deviceId, metrics] of this.devices) {
      for (const [metric, agg] of metrics) series.push({ deviceId, metric, agg: { ...agg } });
    }
    return { firstSequenceNumber: this.firstSeq, records: this.recordCount, series };
  }

  /** Returns the current segment and starts an empty one (after a flush). */
  drain(): WindowSegment {
    const segment = this.segment();
    this.devices.clear();
    this.firstSeq = "";
    this.recordCount = 0;
    this.bound = ENVELOPE_BYTES;
    return segment;
  }

  /**
   * Lambda `state`: a flat string map (compact: URI-encoded keys, `;`/`|`/`,` separators, no JSON escaping).
   * Afterwards the accumulator holds exactly what `fromState` gives back from it (every number survives its text
   * but −0, which `min` and `max` can hold and which comes back as 0: set to 0 here), so a caller may keep using
   * it instead of parsing the state it returned (`WindowScorer`, issue 13).
   */
  toState(): Record<string, string> {
    if (this.recordCount === 0) return {};
    const rows: string[] = [];
    for (const [deviceId, metrics] of this.devices) {
      let row = enc(deviceId);
      for (const [metric, a] of metrics) {
        if (a.min === 0) a.min = 0;
        if (a.max === 0) a.max = 0;
        row +=
          `|${enc(metric)},${a.count},${a.sum},${a.min},${a.max},${a.mean},${a.m2},` +
          `${a.firstEventMs},${a.lastEventMs},${a.maxScore},${a.anomalies}`;
      }
      rows.push(row);
    }
    return {
      v: STATE_FORMAT_VERSION,
      w: String(this.windowStartMs),
      f: this.firstSeq,
      n: String(this.recordCount),
      d: rows.join(";"),
    };
  }
}

/** The window state handed back by Lambda is not in a format this code wrote (a bug or a foreign writer). */
export class WindowStateFormatError extends DriftwatchError {
  constructor(message: string) {
    super(message, { code: "WINDOW_STATE_FORMAT" });
  }
}

/** A character JSON escapes or UTF-8 writes in more than one byte (anything but printable ASCII, `"` and `\`). */
const NOT_PLAIN = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/**
 * Size of a state map as Lambda measures it (its JSON), bytes. A state of plain text (what `toState` writes: URI-
 * encoded keys, numbers, separators; sequence numbers and reading ids) is counted from its lengths — `{"k":"v",…}`
 * — without writing the JSON (issue 13: `JSON.stringify` of a 200-KB state per batch); anything else is measured.
 */
export function stateSizeBytes(state: Record<string, string>): number {
  let bytes = 2;
  let first = true;
  for (const key in state) {
    if (!Object.hasOwn(state, key)) continue;
    const value: unknown = state[key];
    if (typeof value !== "string" || NOT_PLAIN.test(key) || NOT_PLAIN.test(value))
      return Buffer.byteLength(JSON.stringify(state), "utf8");
    bytes += (first ? 0 : 1) + key.length + value.length + 5;
    first = false;
  }
  return bytes;
}
