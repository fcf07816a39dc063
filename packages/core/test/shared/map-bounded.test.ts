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
});
