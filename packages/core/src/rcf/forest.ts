import { InvalidPointError } from "./errors.ts";
import { toFloat32 } from "./float32.ts";
import { decayRate, resolveForestOptions, type ForestOptions, type ForestOptionsInput } from "./options.ts";
import { PointStore } from "./point-store.ts";
import { RNG_WORDS, nextOpenUnit, seedRng } from "./random.ts";
import { TimeDecaySampler } from "./sampler.ts";
import { RandomCutTree, descendFour } from "./tree.ts";

const FLOAT32_MAX = 3.4028234663852886e38;
/** Sequence indices over which a cached sampler refusal bound stays valid. */
const BOUND_SPAN = 256;
/** `boundUntil` mark: the tree's last draw was accepted (its bound is stale; compute the next key first). */
const JUST_ACCEPTED = -2;

/** The running sum of a score's trees (one per process: nothing re-enters a walk). */
const SUM = new Float64Array(1);

export interface Attribution {
  /** Per input metric: part of the score due to the point lying above what the forest has seen. */
  high: Float64Array;
  /** Per input metric: part of the score due to the point lying below. */
  low: Float64Array;
}

/**
 * Robust Random Cut Forest (Guha et al. 2016) with the AWS library's scoring: the score of a point is the average
 * over trees of its expected inverse isolation depth, scaled by log2 of the tree mass; inliers score near 1.
 * `dimensions` counts metrics per input point; the forest shingles internally (`shingleSize` consecutive points
 * make one forest point of `dimensions × shingleSize` values, oldest first). `score` and `attribution` never
 * change the forest; `update` does. Deterministic for a given seed.
 */
export class RandomCutForest {
  readonly dimensions: number;
  readonly options: Readonly<ForestOptions>;
  /** Dimensions of a forest point: dimensions × shingleSize. */
  readonly shingledDimensions: number;
  private readonly lambda: number;
  /** @internal */ readonly trees: RandomCutTree[];
  /** @internal */ readonly samplers: TimeDecaySampler[];
  /** @internal */ readonly store: PointStore;
  /** @internal */ readonly rng: Int32Array;
  /** The last `shingleSize` input points, oldest first (zeros before any input). */
  /** @internal */ readonly shingle: Float64Array;
  /** Input points seen by `update`. */
  /** @internal */ pointsSeen = 0;
  /** Forest points (full shingles) that went through the samplers: the sequence index of the next one. */
  /** @internal */ entriesSeen = 0;
  /**
   * Tree insertions done by `update` since this object was created (a diagnostic, not checkpointed): a young forest
   * inserts most points into most trees, an old one into ≈ trees × sampleSize / age of them (`bench/scoring.ts`).
   */
  /** @internal */ treeInsertions = 0;
  private readonly query: Float64Array;
  private readonly path: Int32Array;
  /** Paths of four trees walked in lockstep (stride sampleSize + 1) and their leaves and depths. */
  private readonly paths: Int32Array;
  private readonly leaves: Int32Array;
  private touched = 0;
  /**
   * Per tree, a draw u below `rejectBelow[t]` is surely refused by its full sampler at every sequence index up
   * to `boundUntil[t]` (derived from the heap's largest key; −1 = stale), so most updates skip the two logs.
   */
  private readonly rejectBelow: Float64Array;
  private readonly boundUntil: Float64Array;
  /**
   * Scratch of `updateUnchecked`: trees accepting the point, their evicted leaves (-1: none) and the heap slots of
   * their new entries (views of `paths` when it is long enough, so a forest holds no more memory than before).
   */
  private readonly accepted: Int32Array;
  private readonly evicted: Int32Array;
  private readonly slots: Int32Array;
  private readonly hiScratch: Float64Array;
  private readonly loScratch: Float64Array;
  private readonly metricOf: Int32Array;

  constructor(dimensions: number, options?: ForestOptionsInput) {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) {
      throw new InvalidPointError(`dimensions must be an integer in 1..4096, got ${String(dimensions)}`);
    }
    const o = resolveForestOptions(options);
    this.dimensions = dimensions;
    this.options = Object.freeze({ ...o });
    const D = dimensions * o.shingleSize;
    if (D > 65535) throw new InvalidPointError(`dimensions × shingleSize must be at most 65535, got ${D}`);
    this.shingledDimensions = D;
    this.lambda = decayRate(o.timeDecay);
    this.rng = new Int32Array(o.numberOfTrees * RNG_WORDS);
    this.trees = [];
    this.samplers = [];
    for (let t = 0; t < o.numberOfTrees; t++) {
      seedRng(this.rng, t * RNG_WORDS, o.seed, t);
      this.trees.push(new RandomCutTree(D, o.sampleSize, this.rng, t * RNG_WORDS));
      this.samplers.push(new TimeDecaySampler(o.sampleSize));
    }
    this.store = new PointStore(D, o.numberOfTrees * o.sampleSize + 1);
    this.shingle = new Float64Array(D);
    this.query = new Float64Array(D);
    this.path = new Int32Array(o.sampleSize + 1);
    this.paths = new Int32Array(4 * (o.sampleSize + 1));
    this.leaves = new Int32Array(9);
    this.rejectBelow = new Float64Array(o.numberOfTrees);
    this.boundUntil = new Float64Array(o.numberOfTrees).fill(-1);
    const T = o.numberOfTrees;
    const scratch = this.paths.length >= 3 * T ? this.paths : new Int32Array(3 * T);
    this.accepted = scratch.subarray(0, T);
    this.evicted = scratch.subarray(T, 2 * T);
    this.slots = scratch.subarray(2 * T, 3 * T);
    this.hiScratch = new Float64Array(dimensions);
    this.loScratch = new Float64Array(dimensions);
    this.metricOf = new Int32Array(D);
    for (let k = 0; k < D; k++) this.metricOf[k] = k % dimensions;
  }

  /**
   * True once `outputAfter` input points have updated the forest (counted as the AWS library and KDA count them,
   * shingled or not; with shingle size s the first s − 1 points make no forest point) and the forest holds at
   * least one point: scores are 0 before.
   */
  get isOutputReady(): boolean {
    return this.pointsSeen >= this.options.outputAfter && this.entriesSeen > 0;
  }

  /** Total updates (input points) seen. */
  get totalUpdates(): number {
    return this.pointsSeen;
  }

  /** Throws InvalidPointError unless `point` has `dimensions` finite numbers. */
  validate(point: ArrayLike<number>): void {
    if (point === null || typeof point !== "object" || typeof point.length !== "number") {
      throw new InvalidPointError("point must be an array of numbers");
    }
    if (point.length !== this.dimensions) {
      throw new InvalidPointError(`point has ${point.length} values, expected ${this.dimensions}`, {
        issues: [{ path: "", message: `expected ${this.dimensions} values` }],
      });
    }
    for (let k = 0; k < this.dimensions; k++) {
      const v = point[k];
      if (typeof v !== "number" || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
        const what =
          typeof v !== "number"
            ? "not a number"
            : Number.isNaN(v)
              ? "NaN"
              : Number.isFinite(v)
                ? "outside the float32 range"
                : "infinite";
        throw new InvalidPointError(`point value at index ${k} is ${what}`, {
          issues: [{ path: String(k), message: what }],
        });
      }
    }
  }

  /** Anomaly score of `point` (before any update with it); 0 until the forest is ready. */
  score(point: ArrayLike<number>): number {
    this.validate(point);
    if (!this.isOutputReady || !this.shingleFullWith()) return 0;
    this.buildQuery(point);
    const pts = this.store.data;
    const q = this.query;
    const trees = this.trees;
    const n = trees.length;
    const paths = this.paths;
    const leaves = this.leaves;
    const stride = this.options.sampleSize + 1;
    const D = this.shingledDimensions;
    const descend = descendFour;
    let sum = 0;
    let t = 0;
    for (; t + 4 <= n; t += 4) {
      const a = trees[t];
      const b = trees[t + 1];
      const c = trees[t + 2];
      const d = trees[t + 3];
      if (a.totalMass === 0 || b.totalMass === 0 || c.totalMass === 0 || d.totalMass === 0) break;
      descend(a, b, c, d, q, paths, stride, leaves);
      // Touch the four leaf points together so their cache misses overlap too.
      this.touched =
        pts[a.leafPoint[~leaves[0]] * D] +
        pts[b.leafPoint[~leaves[1]] * D] +
        pts[c.leafPoint[~leaves[2]] * D] +
        pts[d.leafPoint[~leaves[3]] * D];
      sum += a.scoreAlong(q, pts, paths, 0, leaves[4], leaves[0]);
      sum += b.scoreAlong(q, pts, paths, stride, leaves[5], leaves[1]);
      sum += c.scoreAlong(q, pts, paths, 2 * stride, leaves[6], leaves[2]);
      sum += d.scoreAlong(q, pts, paths, 3 * stride, leaves[7], leaves[3]);
    }
    for (; t < n; t++) sum += trees[t].score(q, pts, this.path);
    return sum / n;
  }

  /**
   * Directional attribution of the score per input metric: `high[i] + low[i]` summed over metrics equals
   * `score(point)`. With shingling, the contributions of a metric's positions in the shingle are added up.
   */
  attribution(point: ArrayLike<number>): Attribution {
    const high = new Float64Array(this.dimensions);
    const low = new Float64Array(this.dimensions);
    this.scoreWithAttribution(point, high, low);
    return { high, low };
  }

  /**
   * Score and attribution in one pass, written into caller-owned arrays of length `dimensions` (no allocation).
   * Returns the score. Arrays are zeroed when the forest is not ready.
   */
  scoreWithAttribution(point: ArrayLike<number>, high: Float64Array, low: Float64Array): number {
    this.validate(point);
    return this.scoreWithAttributionUnchecked(point, high, low);
  }

  /** @internal `scoreWithAttribution` for a point already validated. */
  scoreWithAttributionUnchecked(point: ArrayLike<number>, high: Float64Array, low: Float64Array): number {
    high.fill(0);
    low.fill(0);
    if (!this.isOutputReady || !this.shingleFullWith()) return 0;
    this.buildQuery(point);
    const pts = this.store.data;
    const trees = this.trees;
    const n = trees.length;
    const w = 1 / n;
    const q = this.query;
    const metricOf = this.metricOf;
    const hi = this.hiScratch;
    const lo = this.loScratch;
    const paths = this.paths;
    const leaves = this.leaves;
    const stride = this.options.sampleSize + 1;
    const s1 = stride;
    const s2 = 2 * stride;
    const s3 = 3 * stride;
    const D = this.shingledDimensions;
    const descend = descendFour;
    // The trees' scores are added up in `acc[0]`, in tree order (a double returned per tree would be a heap number).
    const acc = SUM;
    acc[0] = 0;
    let t = 0;
    // Trees four at a time: their walks down overlap in the memory system; then each walks back up.
    for (; t + 4 <= n; t += 4) {
      const a = trees[t];
      const b = trees[t + 1];
      const c = trees[t + 2];
      const d = trees[t + 3];
      if (a.totalMass === 0 || b.totalMass === 0 || c.totalMass === 0 || d.totalMass === 0) break;
      descend(a, b, c, d, q, paths, stride, leaves);
      // Touch the four leaf points together so their cache misses overlap too.
      this.touched =
        pts[a.leafPoint[~leaves[0]] * D] +
        pts[b.leafPoint[~leaves[1]] * D] +
        pts[c.leafPoint[~leaves[2]] * D] +
        pts[d.leafPoint[~leaves[3]] * D];
      a.attributeAlong(q, pts, paths, 0, leaves[4], leaves[0], metricOf, hi, lo, high, low, w, acc);
      b.attributeAlong(q, pts, paths, s1, leaves[5], leaves[1], metricOf, hi, lo, high, low, w, acc);
      c.attributeAlong(q, pts, paths, s2, leaves[6], leaves[2], metricOf, hi, lo, high, low, w, acc);
      d.attributeAlong(q, pts, paths, s3, leaves[7], leaves[3], metricOf, hi, lo, high, low, w, acc);
    }
    let sum = acc[0];
    for (; t < n; t++) sum += trees[t].attribute(q, pts, this.path, metricOf, hi, lo, high, low, w);
    return sum / n;
  }

  /** Adds `point` to the shingle and, once the shingle is full, offers the forest point to every tree's sampler. */
  update(point: ArrayLike<number>): void {
    this.validate(point);
    this.updateUnchecked(point);
  }

  /** @internal `update` for a point already validated. */
  updateUnchecked(point: ArrayLike<number>): void {
    this.pushShingle(point);
    this.pointsSeen++;
    if (this.pointsSeen < this.options.shingleSize) return;
    const store = this.store;
    const pi = store.add(this.shingle);
    const pts = store.data;
    const seq = this.entriesSeen++;
    const lambdaSeq = this.lambda * seq;
    const trees = this.trees;
    const samplers = this.samplers;
    const rng = this.rng;
    const rejectBelow = this.rejectBelow;
    const boundUntil = this.boundUntil;
    // Imported functions read once: transpiled ES module imports can be getters on every access.
    const next = nextOpenUnit;
    const words = RNG_WORDS;
    const accepted = this.accepted;
    const evicted = this.evicted;
    const slots = this.slots;
    let n = 0;
    // Pass 1: every tree's sampler decides (each from its own random stream, as before) and evicts.
    for (let t = 0; t < trees.length; t++) {
      const sampler = samplers[t];
      const u = next(rng, t * words);
      const full = sampler.isFull;
      if (full && seq > boundUntil[t]) {
        if (boundUntil[t] === JUST_ACCEPTED) {
          // The last draw was accepted: draws are often accepted in a row (young forests), so compute this key
          // exactly first and the refusal bound only once a draw is refused.
          boundUntil[t] = -1;
        } else {
          // Most draws are refused; a cached bound (valid up to seq + BOUND_SPAN) spares their two logs.
          const until = seq + BOUND_SPAN;
          rejectBelow[t] = TimeDecaySampler.refusalBound(sampler.keys[0], this.lambda, until);
          boundUntil[t] = until;
          if (u < rejectBelow[t]) continue;
        }
      } else if (full && u < rejectBelow[t]) continue;
      const key = Math.log(-Math.log(u)) - lambdaSeq;
      if (!sampler.accepts(key)) continue;
      boundUntil[t] = JUST_ACCEPTED;
      accepted[n] = t;
      evicted[n] = full ? sampler.evictMax() : -1;
      // The entry's leaf is set once the point is inserted (pass 3); nothing moves this heap before that.
      slots[n] = sampler.push(key, -1);
      n++;
    }
    // Pass 2: the evicted leaves' parents and grandparents, read for all trees before any deletion walks them, so
    // their cache misses overlap (with many models the forests are not cache-resident).
    let touch = 0;
    for (let j = 0; j < n; j++) {
      const l = evicted[j];
      if (l < 0) continue;
      const tree = trees[accepted[j]];
      const p = tree.leafParent[l];
      if (p >= 0) touch += tree.nodes[p * tree.stride] + tree.parent[p];
    }
    for (let j = 0; j < n; j++) {
      const l = evicted[j];
      if (l < 0) continue;
      const tree = trees[accepted[j]];
      const p = tree.leafParent[l];
      if (p < 0) continue;
      const g = tree.parent[p];
      const S = tree.stride;
      const sib = tree.nodes[p * S] === ~l ? tree.nodes[p * S + 1] : tree.nodes[p * S];
      if (g >= 0) touch += tree.nodes[g * S + 6];
      touch += sib >= 0 ? tree.nodes[sib * S + 6] : pts[tree.leafPoint[~sib] * this.shingledDimensions];
    }
    this.touched = touch;
    this.treeInsertions += n;
    // Pass 3: per accepting tree, delete the evicted point, then insert the new one (the order of the library).
    for (let j = 0; j < n; j++) {
      const t = accepted[j];
      const tree = trees[t];
      const l = evicted[j];
      if (l >= 0) {
        const freed = tree.removeOne(l, pts);
        if (freed >= 0) store.release(freed);
      }
      const leaf = tree.insert(pi, pts);
      if (tree.leafPoint[leaf] === pi && tree.leafMass[leaf] === 1) store.addRef(pi);
      samplers[t].leaves[slots[j]] = leaf;
    }
    store.discardIfUnreferenced(pi);
  }

  /** Bytes held in typed arrays by this forest (trees, samplers, point store, scratch). */
  bytes(): number {
    let total = this.store.bytes() + this.rng.byteLength;
    for (const t of this.trees) total += t.bytes();
    for (const s of this.samplers) total += s.bytes();
    total +=
      this.shingle.byteLength + this.query.byteLength + this.metricOf.byteLength + this.path.byteLength;
    return total;
  }

  /** `bytes()` once the point store has grown to its maximum (every tree holding distinct points). */
  maxBytes(): number {
    const store = this.store;
    return this.bytes() - store.bytes() + store.maxPoints * (this.shingledDimensions * 4 + 8);
  }

  /** Whether the shingle will be full once `point` is appended. */
  private shingleFullWith(): boolean {
    return this.pointsSeen + 1 >= this.options.shingleSize;
  }

  private buildQuery(point: ArrayLike<number>): void {
    const D = this.shingledDimensions;
    const d = this.dimensions;
    const q = this.query;
    const sh = this.shingle;
    for (let k = 0; k < D - d; k++) q[k] = sh[k + d];
    for (let k = 0; k < d; k++) q[D - d + k] = toFloat32(point[k]);
  }

  private pushShingle(point: ArrayLike<number>): void {
    const D = this.shingledDimensions;
    const d = this.dimensions;
    const sh = this.shingle;
    sh.copyWithin(0, d);
    for (let k = 0; k < d; k++) sh[D - d + k] = toFloat32(point[k]);
  }
}
