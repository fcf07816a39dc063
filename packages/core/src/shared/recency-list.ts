/** A node of a `RecencyList`: the list links its entries through these two fields. */
export interface RecencyLinked<T> {
  older: T | undefined;
  newer: T | undefined;
}

/**
 * Entries in the order they were last touched, oldest first, linked through the entries themselves: touching one
 * relinks it at the newest end in O(1), without the delete and re-add of a `Map` entry per update (the per-record
 * state of the stuck tracker and the series baseline; ADR 0603, fifth session).
 */
export class RecencyList<T extends RecencyLinked<T>> {
  oldest: T | undefined;
  newest: T | undefined;

  /** Links a new (unlinked) entry at the newest end. */
  append(entry: T): void {
    entry.older = this.newest;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  /** Takes an entry out of the list. */
  unlink(entry: T): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  }

  /** Moves a linked entry to the newest end. */
  touch(entry: T): void {
    if (entry === this.newest) return;
    this.unlink(entry);
    this.append(entry);
  }
}
