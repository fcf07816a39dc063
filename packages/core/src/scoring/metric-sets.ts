import { detectorKeyOf } from "./detector-pool.ts";

/** A model key's metric set: `keys` as a reading listed them, `names` sorted, and their detector key. */
export interface MetricSet {
  keys: readonly string[];
  /** Sorted; shared by every record that repeats the set (never mutated). */
  names: readonly string[];
  detectorKey: string;
}

/** Model keys whose last metric set is remembered (cleared beyond it: a bound, not an LRU). */
const MAX_MODEL_KEYS = 10_000;

/**
 * The sorted metric names of a reading and its detector key (`detectorKeyOf`), per model key: its last set when the
 * reading lists the same keys in the same order (the usual case: no sort, no join per record), else sorted and
 * joined afresh and remembered. The result is what `Object.keys(metrics).sort()` and `detectorKeyOf` give.
 */
export class MetricSets {
  private readonly last = new Map<string, MetricSet>();

  of(modelKey: string, keys: readonly string[]): MetricSet {
    const last = this.last.get(modelKey);
    if (last && sameKeys(last.keys, keys)) return last;
    const names = [...keys].sort();
    const set = { keys, names, detectorKey: detectorKeyOf(modelKey, names) };
    if (!last && this.last.size >= MAX_MODEL_KEYS) this.last.clear();
    this.last.set(modelKey, set);
    return set;
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
