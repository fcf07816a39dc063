import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toFloat32 } from "../../src/rcf/float32.ts";
import { canonical, checkInvariants, lcg, makeTree } from "./helpers.ts";

function addPoint(store: ReturnType<typeof makeTree>["store"], values: number[]): number {
  return store.add(values.map(toFloat32));
}

describe("RandomCutTree", () => {
  it("keeps boxes tight, masses additive and cuts separating while points come and go", () => {
    const rand = lcg(11);
    const { tree, store } = makeTree(3, 64, 5);
    const live: { slot: number; row: number }[] = [];
    for (let step = 0; step < 2000; step++) {
      if (live.length < 64 && (live.length === 0 || rand() < 0.6)) {
        const row = addPoint(store, [rand() * 10, Math.round(rand() * 4), rand() < 0.1 ? 1 : rand()]);
        const slot = tree.insert(row, store.data);
        if (tree.leafPoint[slot] === row) store.addRef(row);
        else store.discardIfUnreferenced(row);
        live.push({ slot, row: tree.leafPoint[slot] });
      } else {
        const i = Math.floor(rand() * live.length);
        const [{ slot }] = live.splice(i, 1);
        const freed = tree.removeOne(slot, store.data);
        if (freed >= 0) store.release(freed);
      }
      const leaves = checkInvariants(tree, store.data);
      let total = 0;
      for (const m of leaves.values()) total += m;
      expect(total).toBe(live.length);
    }
  });

  it("merges duplicates into one leaf with a mass", () => {
    const { tree, store } = makeTree(2, 16);
    const a = addPoint(store, [1, 2]);
    const b = addPoint(store, [3, 4]);
    const c = addPoint(store, [1, 2]);
    tree.insert(a, store.data);
    tree.insert(b, store.data);
    const slot = tree.insert(c, store.data);
    expect(tree.leafPoint[slot]).toBe(a);
    expect(tree.leafMass[slot]).toBe(2);
    expect(tree.totalMass).toBe(3);
    expect(tree.leafCount).toBe(2);
    checkInvariants(tree, store.data);
  });

  it("property: inserting a point then deleting it restores the tree exactly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 2 }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 2 }),
        fc.integer({ min: 1, max: 1000 }),
        (points, extra, seed) => {
          const { tree, store } = makeTree(2, 64, seed);
          for (const p of points) {
            const row = addPoint(store, p);
            const slot = tree.insert(row, store.data);
            if (tree.leafPoint[slot] === row) store.addRef(row);
          }
          const before = canonical(tree, store.data);
          checkInvariants(tree, store.data);
          const row = addPoint(store, extra);
          const slot = tree.insert(row, store.data);
          checkInvariants(tree, store.data);
          tree.removeOne(slot, store.data);
          checkInvariants(tree, store.data);
          expect(canonical(tree, store.data)).toBe(before);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  it("property: every node's box contains exactly its points and masses add up", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.double({ min: -100, max: 100, noNaN: true })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 1000 }),
        (points, seed) => {
          const { tree, store } = makeTree(2, 64, seed);
          for (const p of points) {
            const row = addPoint(store, [p[0], p[1]]);
            const slot = tree.insert(row, store.data);
            if (tree.leafPoint[slot] === row) store.addRef(row);
          }
          const leaves = checkInvariants(tree, store.data);
          let total = 0;
          for (const m of leaves.values()) total += m;
          expect(total).toBe(points.length);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
