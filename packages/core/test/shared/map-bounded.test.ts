import { describe, expect, it } from "vitest";
import { mapBounded } from "../../src/shared/map-bounded.ts";

describe("mapBounded", () => {
  it("keeps input order and never runs more than the limit at once", async () => {
    let inFlight = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const done = mapBounded([5, 4, 3, 2, 1, 0], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => release.push(resolve));
      inFlight--;
      return n * 10;
    });
    while (release.length > 0 || inFlight > 0) {
      await Promise.resolve();
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await done).toEqual([50, 40, 30, 20, 10, 0]);
    expect(peak).toBe(2);
  });

  it("handles an empty list and rejects with the first failure", async () => {
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
    await expect(
      mapBounded([1, 2], 4, async (n) => {
        if (n === 2) throw new Error("boom");
        return n;
      }),
    ).rejects.toThrow("boom");
  });

  it("after a failure starts nothing more, and rejects only once the calls in flight have settled", async () => {
    const started: number[] = [];
    let inFlight = 0;
    let releaseSlow!: () => void;
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    const done = mapBounded([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      inFlight++;
      try {
        if (n === 1) await slow;
        if (n === 2) throw new Error("boom");
        return n;
      } finally {
        inFlight--;
      }
    });
    let settled = false;
    void done.catch(() => undefined).finally(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // item 1 is still in flight
    expect(inFlight).toBe(1);
    releaseSlow();
    await expect(done).rejects.toThrow("boom");
    expect(inFlight).toBe(0);
    expect(started).toEqual([1, 2]); // nothing started after the failure
  });
});
