import { ByteWriter } from "../../src/rcf/binary.ts";
import type { AnomalyDetector } from "../../src/rcf/detector.ts";
import { PointStore } from "../../src/rcf/point-store.ts";
import type { SeriesStats } from "../../src/rcf/series-normalizer.ts";
import { seedRng } from "../../src/rcf/random.ts";
import { RandomCutTree } from "../../src/rcf/tree.ts";

/** Park–Miller generator for test data (fixed seeds). */
export function lcg(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** Standard normal via Box–Muller. */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export function makeTree(dimensions: number, capacity: number, seed = 1) {
  const rng = new Int32Array(4);
  seedRng(rng, 0, seed, 0);
  const tree = new RandomCutTree(dimensions, capacity, rng, 0);
  const store = new PointStore(dimensions, capacity * 4 + 8);
  return { tree, store };
}

/** Checks every structural invariant; returns the multiset of leaf point rows (row → mass). */
export function checkInvariants(tree: RandomCutTree, pts: Float32Array): Map<number, number> {
  const D = tree.dimensions;
  const leaves = new Map<number, number>();
  if (tree.totalMass === 0) return leaves;
  const visit = (ref: number, parent: number): { mass: number; min: number[]; max: number[] } => {
    if (ref < 0) {
      const l = ~ref;
      if (tree.leafParent[l] !== parent)
        throw new Error(`leaf ${l} has parent ${tree.leafParent[l]}, expected ${parent}`);
      const m = tree.leafMass[l];
      if (m < 1) throw new Error("leaf mass < 1");
      const p = tree.leafPoint[l];
      leaves.set(p, (leaves.get(p) ?? 0) + m);
      const coords = Array.from(pts.subarray(p * D, p * D + D));
      return { mass: m, min: coords, max: coords };
    }
    if (tree.parent[ref] !== parent)
      throw new Error(`node ${ref} has parent ${tree.parent[ref]}, expected ${parent}`);
    const a = visit(tree.leftOf(ref), ref);
    const b = visit(tree.rightOf(ref), ref);
    const dim = tree.cutDimensionOf(ref);
    const cut = tree.cutValueOf(ref);
    if (a.max[dim] > cut) throw new Error("left subtree crosses the cut");
    if (b.min[dim] <= cut) throw new Error("right subtree crosses the cut");
    const mass = a.mass + b.mass;
    const min = a.min.map((v, k) => Math.min(v, b.min[k]));
    const max = a.max.map((v, k) => Math.max(v, b.max[k]));
    let range = 0;
    for (let k = 0; k < D; k++) {
      if (tree.boxMin(ref, k) !== min[k] || tree.boxMax(ref, k) !== max[k]) {
        throw new Error(`node ${ref} box is not the tight box of its points`);
      }
      range += max[k] - min[k];
    }
    if (tree.rangeOf(ref) !== range)
      throw new Error(`node ${ref} box range ${tree.rangeOf(ref)} != ${range}`);
    return { mass, min, max };
  };
  const root = visit(tree.rootRef, -1);
  if (root.mass !== tree.totalMass) throw new Error(`total mass ${tree.totalMass} != ${root.mass}`);
  return leaves;
}

/** A canonical string of the tree (structure, cuts, leaf coordinates, masses), independent of slot numbers. */
export function canonical(tree: RandomCutTree, pts: Float32Array): string {
  const D = tree.dimensions;
  if (tree.totalMass === 0) return "empty";
  const walk = (ref: number): string => {
    if (ref < 0) {
      const l = ~ref;
      const p = tree.leafPoint[l];
      return `[${Array.from(pts.subarray(p * D, p * D + D)).join(",")}]x${tree.leafMass[l]}`;
    }
    return `(${tree.cutDimensionOf(ref)}@${tree.cutValueOf(ref)} ${walk(tree.leftOf(ref))} ${walk(tree.rightOf(ref))})`;
  };
  return walk(tree.rootRef);
}

/**
 * `detector`'s checkpoint in an older format: its normaliser section (the last one of the body) rewritten with `put`
 * per series (the unnamed one, then each named one after its id), and the envelope labelled `version`.
 */
export function olderNormalizerCheckpoint(
  detector: AnomalyDetector,
  version: number,
  put: (w: ByteWriter, series: SeriesStats) => void,
): Uint8Array {
  const bytes = detector.toCheckpoint();
  const normalizer = detector.normalizer!;
  const current = new ByteWriter();
  normalizer.write(current);
  const internals = normalizer as unknown as {
    main: SeriesStats;
    series: Map<string, SeriesStats>;
  };
  const older = new ByteWriter();
  put(older, internals.main);
  older.varint(internals.series.size);
  for (const [id, series] of internals.series) {
    const b = new TextEncoder().encode(id);
    older.varint(b.length);
    older.bytes(b);
    put(older, series);
  }
  const head = bytes.slice(0, bytes.length - current.finish().length);
  const tail = older.finish();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  new DataView(out.buffer).setUint16(4, version, true);
  return out;
}
