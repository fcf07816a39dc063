/**
 * Time-decayed weighted reservoir sampler of one tree (Guha et al. 2016, as in the AWS library): a point seen at
 * sequence index t gets the key log(-log u) - λ·t (u uniform in (0,1)); the sampler keeps the `capacity`
 * smallest keys in a max-heap, so a new point enters when the sample is not full or its key is below the
 * largest, which it then evicts. With λ = 0 this is a uniform reservoir sample; λ > 0 favours recent points.
 * Each entry also holds the tree leaf it was inserted as.
 */
export class TimeDecaySampler {
  readonly capacity: number;
  readonly keys: Float64Array;
  readonly leaves: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.keys = new Float64Array(capacity);
    this.leaves = new Int32Array(capacity);
  }

  static key(u: number, lambda: number, sequenceIndex: number): number {
    return Math.log(-Math.log(u)) - lambda * sequenceIndex;
  }

  /**
   * A draw u with u < refusalBound(maxKey, λ, s) has key(u, λ, t) ≥ maxKey for every t ≤ s: the key is below
   * maxKey ⇔ u > exp(−exp(maxKey + λ·t)), which only falls as t grows; the bound is shrunk by a relative margin
   * (1e-6) far above the rounding of either side, so a refusal it predicts is exactly the one `accepts` gives.
   */
  static refusalBound(maxKey: number, lambda: number, sequenceIndex: number): number {
    return Math.exp(-Math.exp(maxKey + lambda * sequenceIndex)) * (1 - 1e-6);
  }

  get isFull(): boolean {
    return this.size === this.capacity;
  }

  /** Whether an entry with this key would be kept. */
  accepts(key: number): boolean {
    return this.size < this.capacity || key < this.keys[0];
  }

  /** Removes the entry with the largest key and returns its leaf. Only when full. */
  evictMax(): number {
    const leaf = this.leaves[0];
    const last = --this.size;
    if (last > 0) {
      this.keys[0] = this.keys[last];
      this.leaves[0] = this.leaves[last];
      this.siftDown(0);
    }
    return leaf;
  }

  /** Adds an entry (only when not full); returns its heap slot, valid until the heap next changes. */
  push(key: number, leaf: number): number {
    let i = this.size++;
    const keys = this.keys;
    const leaves = this.leaves;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] >= key) break;
      keys[i] = keys[p];
      leaves[i] = leaves[p];
      i = p;
    }
    keys[i] = key;
    leaves[i] = leaf;
    return i;
  }

  /** Rebuilds the heap after entries were written directly into `keys`/`leaves` (restore). */
  heapify(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  bytes(): number {
    return this.keys.byteLength + this.leaves.byteLength;
  }

  private siftDown(start: number): void {
    const keys = this.keys;
    const leaves = this.leaves;
    const n = this.size;
    const key = keys[start];
    const leaf = leaves[start];
    let i = start;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1] > keys[c]) c++;
      if (keys[c] <= key) break;
      keys[i] = keys[c];
      leaves[i] = leaves[c];
      i = c;
    }
    keys[i] = key;
    leaves[i] = leaf;
  }
}
