/**
 * The points referenced by the trees of one forest, stored once as float32 rows (`dimensions` values each) with
 * a reference count per row (one reference per tree leaf). Rows are recycled through a free stack; the store
 * grows by doubling up to `maxPoints` (numberOfTrees × sampleSize + 1 rows can be live at once).
 */
export class PointStore {
  readonly dimensions: number;
  readonly maxPoints: number;
  data: Float32Array;
  refs: Int32Array;
  private free: Int32Array;
  private freeTop = 0;
  /** Rows ever handed out (all rows below are in use or on the free stack). */
  private highWater = 0;

  constructor(dimensions: number, maxPoints: number, initialPoints = Math.min(maxPoints, 1024)) {
    this.dimensions = dimensions;
    this.maxPoints = maxPoints;
    const n = Math.max(1, initialPoints);
    this.data = new Float32Array(n * dimensions);
    this.refs = new Int32Array(n);
    this.free = new Int32Array(n);
  }

  get capacity(): number {
    return this.refs.length;
  }

  /** Rows currently referenced. */
  get liveCount(): number {
    return this.highWater - this.freeTop;
  }

  /** Copies `values` (already float32-representable) into a row with zero references; returns its index. */
  add(values: ArrayLike<number>): number {
    let index: number;
    if (this.freeTop > 0) index = this.free[--this.freeTop];
    else {
      if (this.highWater === this.refs.length) this.grow();
      index = this.highWater++;
    }
    const d = this.dimensions;
    const base = index * d;
    for (let k = 0; k < d; k++) this.data[base + k] = values[k];
    this.refs[index] = 0;
    return index;
  }

  addRef(index: number): void {
    this.refs[index]++;
  }

  /** Drops one reference; the row is recycled when none remain. */
  release(index: number): void {
    if (--this.refs[index] <= 0) this.free[this.freeTop++] = index;
  }

  /** Recycles a row that no tree took. */
  discardIfUnreferenced(index: number): void {
    if (this.refs[index] === 0) this.free[this.freeTop++] = index;
  }

  bytes(): number {
    return this.data.byteLength + this.refs.byteLength + this.free.byteLength;
  }

  private grow(): void {
    const next = Math.min(this.maxPoints, Math.max(this.refs.length * 2, 16));
    if (next <= this.refs.length) throw new Error("point store is full");
    const data = new Float32Array(next * this.dimensions);
    data.set(this.data);
    const refs = new Int32Array(next);
    refs.set(this.refs);
    const free = new Int32Array(next);
    free.set(this.free.subarray(0, this.freeTop));
    this.data = data;
    this.refs = refs;
    this.free = free;
  }
}
