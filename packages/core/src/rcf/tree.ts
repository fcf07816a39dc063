import { float32Below, toFloat32 } from "./float32.ts";
import { nextUnit } from "./random.ts";

/** Word offset of the box in a node record: left, right, cut dimension, cut, box range (float64), box. */
const BOX = 6;

/**
 * One random cut tree (Guha et al. 2016) stored in typed arrays, no object per node.
 *
 * Internal nodes are indices 0..capacity-2. Each has one record of `stride = 6 + 2D` 32-bit words in `nodes`
 * (`nodesF` and `nodesD` are float32 and float64 views of the same buffer): left child, right child, cut dimension,
 * float32 cut value, the box's float64 range Σ (max − min) (scoring reads it), then its float32 bounding box
 * (D minima, D maxima). Everything a query reads at a node sits in one record, so a walk down and back up touches
 * one or two cache lines per node (kda d=5: 64 bytes). Parents are kept in a separate array. Internal nodes keep
 * no mass: scoring reads only leaf masses and the tree's total (issue 14 dropped the per-node counts, which cost a
 * walk to the root on every deletion and were read by nothing). Leaves are slots 0..capacity-1 holding a row of
 * the forest's point store and a mass (> 1 for duplicates). A child reference `c` is an internal node when
 * `c >= 0` and the leaf slot `~c` when `c < 0`. Points whose coordinate is `<= cut` go left.
 *
 * Coordinates are float32 values (the forest rounds input), so boxes hold exact copies of point coordinates and
 * every comparison is exact; cuts are float32 values strictly inside the separating gap.
 */
export class RandomCutTree {
  readonly dimensions: number;
  readonly capacity: number;
  /** Words per internal node record in `nodes`. */
  readonly stride: number;
  readonly nodes: Int32Array;
  readonly nodesF: Float32Array;
  readonly parent: Int32Array;
  /**
   * Float64 view of `nodes`: words 4–5 of a record (float64 index `v · stride/2 + 2`) hold Σ_k (max_k − min_k) of
   * the node's box, kept in step with the box (scoring reads it next to the box; `rangeOf`).
   */
  readonly nodesD: Float64Array;
  readonly leafPoint: Int32Array;
  readonly leafMass: Int32Array;
  readonly leafParent: Int32Array;
  private readonly freeNodes: Int32Array;
  private freeNodeTop: number;
  private readonly freeLeaves: Int32Array;
  private freeLeafTop: number;
  /** Child reference of the root (valid when `totalMass > 0`). */
  rootRef = 0;
  totalMass = 0;
  /** Random stream of this tree: `rng[rngOffset .. +4)`. */
  private readonly rng: Int32Array;
  private readonly rngOffset: number;

  constructor(dimensions: number, capacity: number, rng: Int32Array, rngOffset: number) {
    this.dimensions = dimensions;
    this.capacity = capacity;
    const nodes = Math.max(1, capacity - 1);
    this.stride = BOX + 2 * dimensions;
    this.nodes = new Int32Array(nodes * this.stride);
    this.nodesF = new Float32Array(this.nodes.buffer);
    this.nodesD = new Float64Array(this.nodes.buffer);
    this.parent = new Int32Array(nodes);
    this.leafPoint = new Int32Array(capacity);
    this.leafMass = new Int32Array(capacity);
    this.leafParent = new Int32Array(capacity);
    this.freeNodes = new Int32Array(nodes);
    this.freeLeaves = new Int32Array(capacity);
    for (let i = 0; i < nodes; i++) this.freeNodes[i] = nodes - 1 - i;
    for (let i = 0; i < capacity; i++) this.freeLeaves[i] = capacity - 1 - i;
    this.freeNodeTop = nodes;
    this.freeLeafTop = capacity;
    this.rng = rng;
    this.rngOffset = rngOffset;
  }

  bytes(): number {
    return (
      this.nodes.byteLength +
      this.parent.byteLength +
      this.leafPoint.byteLength +
      this.leafMass.byteLength +
      this.leafParent.byteLength +
      this.freeNodes.byteLength +
      this.freeLeaves.byteLength
    );
  }

  leftOf(v: number): number {
    return this.nodes[v * this.stride];
  }

  rightOf(v: number): number {
    return this.nodes[v * this.stride + 1];
  }

  cutDimensionOf(v: number): number {
    return this.nodes[v * this.stride + 2];
  }

  cutValueOf(v: number): number {
    return this.nodesF[v * this.stride + 3];
  }

  /** Lower corner of node `v`'s box in dimension `k`. */
  boxMin(v: number, k: number): number {
    return this.nodesF[v * this.stride + BOX + k];
  }

  /** Upper corner of node `v`'s box in dimension `k`. */
  boxMax(v: number, k: number): number {
    return this.nodesF[v * this.stride + BOX + this.dimensions + k];
  }

  /** Σ_k (max_k − min_k) of node `v`'s box (cached in its record). */
  rangeOf(v: number): number {
    return this.nodesD[v * (this.stride >> 1) + 2];
  }

  /** Sets an internal node's children and cut (restore). */
  setNode(v: number, left: number, right: number, cutDimension: number, cutValue: number): void {
    const b = v * this.stride;
    this.nodes[b] = left;
    this.nodes[b + 1] = right;
    this.nodes[b + 2] = cutDimension;
    this.nodesF[b + 3] = cutValue;
  }

  /**
   * Inserts row `pi` of `pts`. Returns the leaf slot that now represents it: a new leaf holding `pi`, or an
   * existing leaf with an equal point whose mass was incremented (then `leafPoint[slot] !== pi`).
   */
  insert(pi: number, pts: Float32Array): number {
    const D = this.dimensions;
    const base = pi * D;
    if (this.totalMass === 0) {
      const l = this.allocLeaf();
      this.leafPoint[l] = pi;
      this.leafMass[l] = 1;
      this.leafParent[l] = -1;
      this.rootRef = ~l;
      this.totalMass = 1;
      return l;
    }
    this.totalMass++;
    const S = this.stride;
    const H = S >> 1;
    const N = this.nodes;
    const box = this.nodesF;
    const R = this.nodesD;
    let ref = this.rootRef;
    let parentNode = -1;
    for (;;) {
      if (ref < 0) {
        const l = ~ref;
        const lb = this.leafPoint[l] * D;
        let gap = 0;
        for (let k = 0; k < D; k++) {
          const diff = pts[base + k] - pts[lb + k];
          gap += diff < 0 ? -diff : diff;
        }
        if (gap === 0) {
          this.leafMass[l]++;
          return l;
        }
        // The new point and the leaf's point always separate: choose a dimension with probability ∝ |diff|.
        let r = nextUnit(this.rng, this.rngOffset) * gap;
        let k = 0;
        let lastNonZero = -1;
        for (; k < D; k++) {
          const diff = pts[base + k] - pts[lb + k];
          const w = diff < 0 ? -diff : diff;
          if (w > 0) {
            lastNonZero = k;
            if (r < w) break;
            r -= w;
          }
        }
        if (k === D) {
          k = lastNonZero;
          r = Math.abs(pts[base + k] - pts[lb + k]);
        }
        const x = pts[base + k];
        const a = pts[lb + k];
        const lo = x < a ? x : a;
        const hi = x < a ? a : x;
        let c = toFloat32(lo + r);
        if (c >= hi) c = float32Below(hi);
        if (c < lo) c = lo;
        const u = this.allocNode();
        const nl = this.allocLeaf();
        this.leafPoint[nl] = pi;
        this.leafMass[nl] = 1;
        this.leafParent[nl] = u;
        this.leafParent[l] = u;
        const ur0 = u * S;
        N[ur0 + 2] = k;
        box[ur0 + 3] = c;
        if (x <= c) {
          N[ur0] = ~nl;
          N[ur0 + 1] = ref;
        } else {
          N[ur0] = ref;
          N[ur0 + 1] = ~nl;
        }
        const ub = ur0 + BOX;
        let ur = 0;
        for (let j = 0; j < D; j++) {
          const p = pts[base + j];
          const q = pts[lb + j];
          const mn = p < q ? p : q;
          const mx = p < q ? q : p;
          box[ub + j] = mn;
          box[ub + D + j] = mx;
          ur += mx - mn;
        }
        R[u * H + 2] = ur;
        this.linkParent(parentNode, ref, u);
        return nl;
      }
      const v = ref;
      const vr0 = v * S;
      const vb = vr0 + BOX;
      // Branch-free: (d + |d|) is 2·max(d, 0) exactly, and at most one of the two sides is positive.
      let gap2 = 0;
      for (let k = 0; k < D; k++) {
        const x = pts[base + k];
        const dl = box[vb + k] - x;
        const dh = x - box[vb + D + k];
        gap2 += dl + Math.abs(dl) + (dh + Math.abs(dh));
      }
      if (gap2 > 0) {
        const range = R[v * H + 2];
        const gap = gap2 * 0.5;
        // A random cut of the box extended by the point separates them with probability gap / (range + gap).
        let r = nextUnit(this.rng, this.rngOffset) * (range + gap);
        let k = 0;
        let separated = false;
        let c = 0;
        for (; k < D; k++) {
          const mn = box[vb + k];
          const mx = box[vb + D + k];
          const x = pts[base + k];
          const lo = x < mn ? x : mn;
          const hi = x > mx ? x : mx;
          const w = hi - lo;
          if (r < w) {
            const position = lo + r;
            if (x < mn && position < mn) {
              separated = true;
              c = toFloat32(position);
              if (c >= mn) c = float32Below(mn);
              if (c < x) c = x;
            } else if (x > mx && position >= mx) {
              separated = true;
              c = toFloat32(position);
              if (c < mx) c = mx;
              if (c >= x) c = float32Below(x);
            }
            break;
          }
          r -= w;
        }
        if (separated) {
          const u = this.allocNode();
          const nl = this.allocLeaf();
          this.leafPoint[nl] = pi;
          this.leafMass[nl] = 1;
          this.leafParent[nl] = u;
          const ur0 = u * S;
          N[ur0 + 2] = k;
          box[ur0 + 3] = c;
          if (pts[base + k] <= c) {
            N[ur0] = ~nl;
            N[ur0 + 1] = v;
          } else {
            N[ur0] = v;
            N[ur0 + 1] = ~nl;
          }
          const ub = ur0 + BOX;
          let ur = 0;
          for (let j = 0; j < D; j++) {
            const x = pts[base + j];
            const mn0 = box[vb + j];
            const mx0 = box[vb + D + j];
            const mn = x < mn0 ? x : mn0;
            const mx = x > mx0 ? x : mx0;
            box[ub + j] = mn;
            box[ub + D + j] = mx;
            ur += mx - mn;
          }
          R[u * H + 2] = ur;
          this.parent[v] = u;
          this.linkParent(parentNode, v, u);
          return nl;
        }
        let vr = 0;
        for (let j = 0; j < D; j++) {
          const x = pts[base + j];
          if (x < box[vb + j]) box[vb + j] = x;
          else if (x > box[vb + D + j]) box[vb + D + j] = x;
          vr += box[vb + D + j] - box[vb + j];
        }
        R[v * H + 2] = vr;
      }
      parentNode = v;
      ref = N[vr0 + +(pts[base + N[vr0 + 2]] > box[vr0 + 3])];
    }
  }

  /**
   * Removes one unit of mass of leaf `l`. Returns the point row the tree no longer references (the leaf is gone)
   * or -1 when the leaf keeps a positive mass.
   */
  removeOne(l: number, pts: Float32Array): number {
    this.totalMass--;
    if (this.leafMass[l] > 1) {
      this.leafMass[l]--;
      return -1;
    }
    const pi = this.leafPoint[l];
    const p = this.leafParent[l];
    this.freeLeaf(l);
    if (p === -1) {
      this.rootRef = 0;
      return pi;
    }
    const pr = p * this.stride;
    const sibling = this.nodes[pr] === ~l ? this.nodes[pr + 1] : this.nodes[pr];
    const g = this.parent[p];
    this.linkParent(g, p, sibling);
    this.freeNode(p);
    // Boxes shrink upward until one is unchanged (its ancestors' are then unchanged too). A box of which the
    // removed point is strictly inside cannot change: that is checked on the node's own record, before reading its
    // children's (with many models these are cache misses; the walk's last node is often such a box).
    const D = this.dimensions;
    const S = this.stride;
    const box = this.nodesF;
    const base = pi * D;
    for (let v = g; v !== -1; v = this.parent[v]) {
      const vb = v * S + BOX;
      let inside = true;
      for (let k = 0; k < D; k++) {
        const x = pts[base + k];
        if (!(x > box[vb + k] && x < box[vb + D + k])) {
          inside = false;
          break;
        }
      }
      if (inside || !this.recomputeBox(v, pts)) break;
    }
    return pi;
  }

  /**
   * Anomaly score of the float32-rounded point `q` in this tree, scaled by log2(mass + 1): expected inverse depth
   * at which a random cut would isolate `q` (scoreUnseen = 1/(depth+1), scoreSeen = 1/(depth + log2(m+1)) damped
   * by 1 − m/(2·mass) for a duplicate of a leaf of mass m), as in the AWS library's default visitor.
   */
  score(q: Float64Array, pts: Float32Array, path: Int32Array): number {
    if (this.totalMass === 0) return 0;
    const leaf = this.descend(q, path, 0);
    return this.scoreAlong(q, pts, path, 0, this.lastDepth, leaf);
  }

  /** `score` for a path already found by `descend` (see `attributeAlong`). */
  scoreAlong(
    q: Float64Array,
    pts: Float32Array,
    path: Int32Array,
    offset: number,
    depth: number,
    ref: number,
  ): number {
    const total = this.totalMass;
    const D = this.dimensions;
    const S = this.stride;
    const box = this.nodesF;
    const l = ~ref;
    const lb = this.leafPoint[l] * D;
    let equal = true;
    for (let k = 0; k < D; k++) {
      if (pts[lb + k] !== q[k]) {
        equal = false;
        break;
      }
    }
    let s: number;
    if (equal) {
      const m = this.leafMass[l];
      s = (1 - m / (2 * total)) / (depth + Math.log2(m + 1));
    } else {
      const R = this.nodesD;
      const H = S >> 1;
      s = 1 / (depth + 1);
      for (let i = depth - 1; i >= 0; i--) {
        const v = path[offset + i];
        const vb = v * S + BOX;
        // Branch-free (the comparisons are unpredictable): (d + |d|) = 2·max(d, 0) exactly; one side at most is > 0.
        let gap2 = 0;
        for (let k = 0; k < D; k++) {
          const x = q[k];
          const dl = box[vb + k] - x;
          const dh = x - box[vb + D + k];
          gap2 += dl + Math.abs(dl) + (dh + Math.abs(dh));
        }
        if (gap2 === 0) break; // inside this box, hence inside every ancestor's box
        const gap = gap2 * 0.5;
        const prob = gap / (R[v * H + 2] + gap);
        s = prob / (i + 1) + (1 - prob) * s;
      }
    }
    return s * log2Plus1(total);
  }

  /**
   * Score with directional attribution (the library's DiVector): per metric, the part of the score due to `q`
   * lying above (`high`) or below (`low`) the sampled points. Dimension k of the (shingled) point belongs to
   * metric `metricOf[k]`; the recursion is linear, so contributions are accumulated per metric directly
   * (`hi`/`lo` are per-metric scratch). Adds `weight ×` the normalized values to `high`/`low` and returns the
   * normalized score, which equals the sum of what was added divided by `weight`.
   *
   * One walk down and one walk up (to the first box that contains `q`), one pass over each box: going up,
   * level i turns the accumulated attribution A into keep_i·A + c_i with keep_i = range_i/(range_i + gap_i);
   * the scratch holds A / K where K is the product of the keeps so far, so each box's per-dimension gaps are
   * added once (scaled by unseen_i/(range_i·K), with range_i cached per node) and nothing is rescaled per level.
   */
  attribute(
    q: Float64Array,
    pts: Float32Array,
    path: Int32Array,
    metricOf: Int32Array,
    hi: Float64Array,
    lo: Float64Array,
    high: Float64Array,
    low: Float64Array,
    weight: number,
  ): number {
    if (this.totalMass === 0) return 0;
    const leaf = this.descend(q, path, 0);
    const acc = ATTRIBUTE_SCRATCH;
    acc[0] = 0;
    this.attributeAlong(q, pts, path, 0, this.lastDepth, leaf, metricOf, hi, lo, high, low, weight, acc);
    return acc[0];
  }

  /** Depth reached by the last `descend` (internal nodes on the path). */
  lastDepth = 0;

  /**
   * Walks `q` from the root to its leaf (tree not empty), writing the internal nodes into `path[offset..]`;
   * sets `lastDepth` and returns the leaf reference (negative).
   */
  descend(q: Float64Array, path: Int32Array, offset: number): number {
    const S = this.stride;
    const N = this.nodes;
    const F = this.nodesF;
    let ref = this.rootRef;
    let depth = offset;
    while (ref >= 0) {
      path[depth++] = ref;
      const r = ref * S;
      // Branch-free child choice (the comparison is unpredictable): left at r, right at r + 1.
      ref = N[r + +(q[N[r + 2]] > F[r + 3])];
    }
    this.lastDepth = depth - offset;
    return ref;
  }

  /**
   * `attribute` for a path already found by `descend`: `path[offset .. offset + depth)` are the internal nodes
   * from the root, `leafRef` the leaf reached. Adds the tree's normalized score to `acc[0]` instead of returning it
   * (a double returned from a call that is not inlined is a heap number: 100 of them per point; issue 14).
   */
  attributeAlong(
    q: Float64Array,
    pts: Float32Array,
    path: Int32Array,
    offset: number,
    depth: number,
    leafRef: number,
    metricOf: Int32Array,
    hi: Float64Array,
    lo: Float64Array,
    high: Float64Array,
    low: Float64Array,
    weight: number,
    acc: Float64Array,
  ): void {
    const total = this.totalMass;
    const D = this.dimensions;
    const M = hi.length;
    const S = this.stride;
    const box = this.nodesF;
    const ref = leafRef;
    const l = ~ref;
    const lb = this.leafPoint[l] * D;
    let gap = 0;
    for (let k = 0; k < D; k++) gap += Math.abs(q[k] - pts[lb + k]);
    const scale = log2Plus1(total);
    const f = scale * weight;
    if (gap === 0) {
      const m = this.leafMass[l];
      const s = (1 - m / (2 * total)) / (depth + Math.log2(m + 1));
      const share = (s / (2 * M)) * f;
      for (let j = 0; j < M; j++) {
        high[j] += share;
        low[j] += share;
      }
      acc[0] += s * scale;
      return;
    }
    let s = 1 / (depth + 1);
    if (M === 1) {
      // One metric (possibly shingled): the attribution lives in two scalars.
      let h2 = 0;
      let lw2 = 0;
      for (let k = 0; k < D; k++) {
        const diff = q[k] - pts[lb + k];
        const ad = Math.abs(diff);
        h2 += diff + ad;
        lw2 += ad - diff;
      }
      let h = h2 * 0.5 * (s / gap);
      let lw = lw2 * 0.5 * (s / gap);
      const R = this.nodesD;
      const H = S >> 1;
      for (let i = depth - 1; i >= 0; i--) {
        const v = path[offset + i];
        const vb = v * S + BOX;
        // Branch-free: (d + |d|) = 2·max(d, 0) exactly.
        let gh2 = 0;
        let gl2 = 0;
        for (let k = 0; k < D; k++) {
          const x = q[k];
          const dl = box[vb + k] - x;
          const dh = x - box[vb + D + k];
          gl2 += dl + Math.abs(dl);
          gh2 += dh + Math.abs(dh);
        }
        const gh = gh2 * 0.5;
        const gl = gl2 * 0.5;
        const g = gh + gl;
        if (g === 0) break; // inside this box, hence inside every ancestor's box
        const sum = R[v * H + 2] + g;
        const keep = 1 - g / sum;
        const a = 1 / ((i + 1) * sum);
        h = h * keep + gh * a;
        lw = lw * keep + gl * a;
        s = g * a + keep * s;
      }
      high[0] += h * f;
      low[0] += lw * f;
      acc[0] += s * scale;
      return;
    }
    for (let j = 0; j < M; j++) {
      hi[j] = 0;
      lo[j] = 0;
    }
    const f0 = s / gap;
    for (let k = 0; k < D; k++) {
      // Branch-free: exactly diff·f0 to `hi` when diff > 0, −diff·f0 to `lo` when diff < 0, and +0 otherwise.
      const diff = q[k] - pts[lb + k];
      const ad = Math.abs(diff);
      const m = metricOf[k];
      hi[m] += (diff + ad) * 0.5 * f0;
      lo[m] += (ad - diff) * 0.5 * f0;
    }
    const R = this.nodesD;
    const H = S >> 1;
    let product = 1; // K: product of the keeps applied so far; hi/lo hold A / K
    for (let i = depth - 1; i >= 0; i--) {
      const v = path[offset + i];
      const vb = v * S + BOX;
      const range = R[v * H + 2];
      // Gaps enter as gap_k · unseen_i / (sum_i · K_new) = gap_k · unseen_i / (range_i · K_old).
      const a = INVERSE[i] / (range * product);
      let g = 0;
      for (let k = 0; k < D; k++) {
        const x = q[k];
        const dl = box[vb + k] - x;
        const dh = x - box[vb + D + k];
        // Branch-free: below = max(dl, 0), above = max(dh, 0), exactly; at most one is > 0, adding 0 changes nothing.
        const below = (dl + Math.abs(dl)) * 0.5;
        const above = (dh + Math.abs(dh)) * 0.5;
        g += below + above;
        const m = metricOf[k];
        lo[m] += below * a;
        hi[m] += above * a;
      }
      if (g === 0) break; // inside this box, hence inside every ancestor's box (nothing was added)
      const inv = 1 / (range + g);
      const keep = range * inv;
      product *= keep;
      s = g * inv * INVERSE[i] + keep * s;
      if (product < 1e-150) {
        for (let j = 0; j < M; j++) {
          hi[j] *= product;
          lo[j] *= product;
        }
        product = 1;
      }
    }
    const fk = f * product;
    for (let j = 0; j < M; j++) {
      high[j] += hi[j] * fk;
      low[j] += lo[j] * fk;
    }
    acc[0] += s * scale;
  }

  /** Number of internal nodes in use. */
  get nodeCount(): number {
    return this.freeNodes.length - this.freeNodeTop;
  }

  /** Number of leaves in use. */
  get leafCount(): number {
    return this.capacity - this.freeLeafTop;
  }

  /** Rebuilds every box, and the total mass, bottom-up from a non-empty structure (after restore). */
  rebuildBoxes(pts: Float32Array): void {
    const visit = (ref: number): number => {
      if (ref < 0) return this.leafMass[~ref];
      const m = visit(this.leftOf(ref)) + visit(this.rightOf(ref));
      this.recomputeBox(ref, pts);
      return m;
    };
    this.totalMass = visit(this.rootRef);
  }

  /** Allocates a node/leaf for restore. */
  allocNode(): number {
    return this.freeNodes[--this.freeNodeTop];
  }

  allocLeaf(): number {
    return this.freeLeaves[--this.freeLeafTop];
  }

  /** Sets the parent of child reference `ref`. */
  setParentOf(ref: number, parent: number): void {
    if (ref >= 0) this.parent[ref] = parent;
    else this.leafParent[~ref] = parent;
  }

  private freeNode(v: number): void {
    this.freeNodes[this.freeNodeTop++] = v;
  }

  private freeLeaf(l: number): void {
    this.freeLeaves[this.freeLeafTop++] = l;
  }

  /** Replaces child `oldRef` of internal node `p` (or the root when p = -1) by `newRef`. */
  private linkParent(p: number, oldRef: number, newRef: number): void {
    if (p === -1) this.rootRef = newRef;
    else if (this.nodes[p * this.stride] === oldRef) this.nodes[p * this.stride] = newRef;
    else this.nodes[p * this.stride + 1] = newRef;
    this.setParentOf(newRef, p);
  }

  /** Box of `v` = union of its children's boxes; returns whether it changed. */
  private recomputeBox(v: number, pts: Float32Array): boolean {
    const D = this.dimensions;
    const S = this.stride;
    const box = this.nodesF;
    const vb = v * S + BOX;
    const a = this.nodes[v * S];
    const b = this.nodes[v * S + 1];
    let changed = false;
    let range = 0;
    for (let k = 0; k < D; k++) {
      let mnA: number, mxA: number, mnB: number, mxB: number;
      if (a >= 0) {
        mnA = box[a * S + BOX + k];
        mxA = box[a * S + BOX + D + k];
      } else {
        mnA = mxA = pts[this.leafPoint[~a] * D + k];
      }
      if (b >= 0) {
        mnB = box[b * S + BOX + k];
        mxB = box[b * S + BOX + D + k];
      } else {
        mnB = mxB = pts[this.leafPoint[~b] * D + k];
      }
      const mn = mnA < mnB ? mnA : mnB;
      const mx = mxA > mxB ? mxA : mxB;
      if (box[vb + k] !== mn || box[vb + D + k] !== mx) {
        changed = true;
        box[vb + k] = mn;
        box[vb + D + k] = mx;
      }
      range += mx - mn;
    }
    this.nodesD[v * (S >> 1) + 2] = range;
    return changed;
  }
}

/**
 * Walks `q` down four non-empty trees in lockstep (independent chains of loads overlap in the CPU, where one
 * tree at a time waits for each node in turn). Tree j writes its path at `path[j·stride ..]`; `out[j]` gets
 * its leaf reference and `out[4 + j]` its depth (`out[8]` receives the discarded reads of the record ends).
 */
export function descendFour(
  a: RandomCutTree,
  b: RandomCutTree,
  c: RandomCutTree,
  d: RandomCutTree,
  q: Float64Array,
  path: Int32Array,
  stride: number,
  out: Int32Array,
): void {
  const S = a.stride;
  const Na = a.nodes;
  const Fa = a.nodesF;
  const Nb = b.nodes;
  const Fb = b.nodesF;
  const Nc = c.nodes;
  const Fc = c.nodesF;
  const Nd = d.nodes;
  const Fd = d.nodesF;
  let ra = a.rootRef;
  let rb = b.rootRef;
  let rc = c.rootRef;
  let rd = d.rootRef;
  let ia = 0;
  let ib = stride;
  let ic = 2 * stride;
  let id = 3 * stride;
  // The last word of each record visited is read too (and discarded): the walk back up reads the whole box, and
  // a record longer than a cache line then finds its second line already on its way.
  const last = S - 1;
  let touch = 0;
  // Until all four references are leaves (negative): the sign bit of the AND is set only then.
  while ((ra & rb & rc & rd) >= 0) {
    if (ra >= 0) {
      path[ia++] = ra;
      const r = ra * S;
      touch |= Na[r + last];
      ra = Na[r + +(q[Na[r + 2]] > Fa[r + 3])];
    }
    if (rb >= 0) {
      path[ib++] = rb;
      const r = rb * S;
      touch |= Nb[r + last];
      rb = Nb[r + +(q[Nb[r + 2]] > Fb[r + 3])];
    }
    if (rc >= 0) {
      path[ic++] = rc;
      const r = rc * S;
      touch |= Nc[r + last];
      rc = Nc[r + +(q[Nc[r + 2]] > Fc[r + 3])];
    }
    if (rd >= 0) {
      path[id++] = rd;
      const r = rd * S;
      touch |= Nd[r + last];
      rd = Nd[r + +(q[Nd[r + 2]] > Fd[r + 3])];
    }
  }
  out[0] = ra;
  out[1] = rb;
  out[2] = rc;
  out[3] = rd;
  out[4] = ia;
  out[5] = ib - stride;
  out[6] = ic - 2 * stride;
  out[7] = id - 3 * stride;
  out[8] = touch;
}

/** `attribute`'s sum (one per process: nothing re-enters it). */
const ATTRIBUTE_SCRATCH = new Float64Array(1);

/** log2(n + 1) for tree masses, from a table up to 65536. */
const LOG2_TABLE = new Float64Array(65537);
for (let n = 0; n < LOG2_TABLE.length; n++) LOG2_TABLE[n] = Math.log2(n + 1);
function log2Plus1(n: number): number {
  return n < LOG2_TABLE.length ? LOG2_TABLE[n] : Math.log2(n + 1);
}

/** 1 / (i + 1) for depths. */
const INVERSE = new Float64Array(65537);
for (let i = 0; i < INVERSE.length; i++) INVERSE[i] = 1 / (i + 1);
