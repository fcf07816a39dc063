import type { ByteReader, ByteWriter } from "./binary.ts";
import { CheckpointFormatError } from "./errors.ts";
import { RandomCutForest } from "./forest.ts";
import type { ForestOptions } from "./options.ts";
import type { RandomCutTree } from "./tree.ts";

/**
 * Compact binary state of a forest: counters, shingle, random streams, the live points (float32, renumbered),
 * and per tree its structure in preorder (a bitset of node kinds; cut dimension and float32 cut per internal
 * node; point and mass per leaf) followed by the sampler keys grouped by leaf. Boxes and node masses are not
 * stored: they are rebuilt exactly from the points on restore.
 */
export function writeForest(w: ByteWriter, forest: RandomCutForest): void {
  const D = forest.shingledDimensions;
  w.f64(forest.pointsSeen);
  w.f64(forest.entriesSeen);
  for (let k = 0; k < D; k++) w.f64(forest.shingle[k]);
  for (let i = 0; i < forest.rng.length; i++) w.i32(forest.rng[i]);

  const remap = new Int32Array(forest.store.capacity).fill(-1);
  const live: number[] = [];
  const preorders = forest.trees.map((tree) => preorder(tree));
  for (let t = 0; t < forest.trees.length; t++) {
    for (const ref of preorders[t]) {
      if (ref >= 0) continue;
      const pi = forest.trees[t].leafPoint[~ref];
      if (remap[pi] < 0) {
        remap[pi] = live.length;
        live.push(pi);
      }
    }
  }
  const pts = forest.store.data;
  w.varint(live.length);
  for (const pi of live) for (let k = 0; k < D; k++) w.f32(pts[pi * D + k]);
  const wideDim = D > 256;
  const widePoint = live.length > 65536;

  for (let t = 0; t < forest.trees.length; t++) {
    const tree = forest.trees[t];
    const order = preorders[t];
    w.varint(order.length);
    if (order.length === 0) continue;
    const bits = new Uint8Array(Math.ceil(order.length / 8));
    order.forEach((ref, i) => {
      if (ref < 0) bits[i >> 3] |= 1 << (i & 7);
    });
    w.bytes(bits);
    const keysByLeaf = new Map<number, number[]>();
    const sampler = forest.samplers[t];
    for (let j = 0; j < sampler.size; j++) {
      const list = keysByLeaf.get(sampler.leaves[j]);
      if (list === undefined) keysByLeaf.set(sampler.leaves[j], [sampler.keys[j]]);
      else list.push(sampler.keys[j]);
    }
    for (const ref of order) {
      if (ref >= 0) {
        if (wideDim) w.u16(tree.cutDimensionOf(ref));
        else w.u8(tree.cutDimensionOf(ref));
        w.f32(tree.cutValueOf(ref));
      } else {
        const l = ~ref;
        const p = remap[tree.leafPoint[l]];
        if (widePoint) w.u32(p);
        else w.u16(p);
        w.varint(tree.leafMass[l]);
      }
    }
    for (const ref of order) {
      if (ref >= 0) continue;
      const keys = keysByLeaf.get(~ref) ?? [];
      if (keys.length !== tree.leafMass[~ref]) throw new Error("sampler and tree disagree");
      for (const key of keys) w.f64(key);
    }
  }
}

export function readForest(r: ByteReader, dimensions: number, options: ForestOptions): RandomCutForest {
  const forest = new RandomCutForest(dimensions, options);
  const D = forest.shingledDimensions;
  forest.pointsSeen = r.f64();
  forest.entriesSeen = r.f64();
  for (let k = 0; k < D; k++) forest.shingle[k] = r.f64();
  for (let i = 0; i < forest.rng.length; i++) forest.rng[i] = r.i32();

  const count = r.varint();
  if (count > forest.store.maxPoints)
    throw new CheckpointFormatError("checkpoint holds more points than the forest can");
  const row = new Float64Array(D);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < D; k++) row[k] = r.f32();
    forest.store.add(row);
  }
  const pts = forest.store.data;
  const wideDim = D > 256;
  const widePoint = count > 65536;

  for (let t = 0; t < forest.trees.length; t++) {
    const tree = forest.trees[t];
    const sampler = forest.samplers[t];
    const n = r.varint();
    if (n === 0) continue;
    if (n > 2 * tree.capacity - 1)
      throw new CheckpointFormatError("checkpoint tree is larger than the sample size");
    const bits = r.bytes(Math.ceil(n / 8));
    const leaves: number[] = [];
    let next = 0;
    const readNode = (parent: number): number => {
      if (next >= n) throw new CheckpointFormatError("checkpoint tree structure is malformed");
      const i = next++;
      if ((bits[i >> 3] & (1 << (i & 7))) !== 0) {
        const l = tree.allocLeaf();
        const p = widePoint ? r.u32() : r.u16();
        if (p >= count) throw new CheckpointFormatError("checkpoint leaf refers to a missing point");
        tree.leafPoint[l] = p;
        tree.leafMass[l] = r.varint();
        tree.leafParent[l] = parent;
        forest.store.addRef(p);
        leaves.push(l);
        return ~l;
      }
      if (tree.nodeCount >= tree.capacity - 1)
        throw new CheckpointFormatError("checkpoint tree structure is malformed");
      const u = tree.allocNode();
      const dim = wideDim ? r.u16() : r.u8();
      if (dim >= D) throw new CheckpointFormatError("checkpoint cut dimension is out of range");
      const cut = r.f32();
      tree.parent[u] = parent;
      const left = readNode(u);
      const right = readNode(u);
      tree.setNode(u, left, right, dim, cut);
      return u;
    };
    tree.rootRef = readNode(-1);
    if (next !== n) throw new CheckpointFormatError("checkpoint tree structure is malformed");
    tree.rebuildBoxes(pts);
    for (const l of leaves) {
      for (let m = 0; m < tree.leafMass[l]; m++) {
        if (sampler.size >= sampler.capacity) throw new CheckpointFormatError("checkpoint sampler overflows");
        sampler.keys[sampler.size] = r.f64();
        sampler.leaves[sampler.size] = l;
        sampler.size++;
      }
    }
    sampler.heapify();
  }
  for (let i = 0; i < count; i++) forest.store.discardIfUnreferenced(i);
  return forest;
}

/** Child references of a tree in preorder (empty when the tree is empty). */
function preorder(tree: RandomCutTree): number[] {
  const out: number[] = [];
  if (tree.totalMass === 0) return out;
  const stack = [tree.rootRef];
  while (stack.length > 0) {
    const ref = stack.pop() as number;
    out.push(ref);
    if (ref >= 0) {
      stack.push(tree.rightOf(ref));
      stack.push(tree.leftOf(ref));
    }
  }
  return out;
}
