import { describe, expect, it } from "vitest";
import { detectorKeyOf } from "../../src/scoring/detector-pool.ts";
import { MetricSets } from "../../src/scoring/metric-sets.ts";

describe("metric sets (sorted names and detector key per model key)", () => {
  it("gives what sorting and joining each reading's keys gives, reusing a repeated set", () => {
    const sets = new MetricSets();
    const cases: [string, string[]][] = [
      ["m#a", ["pulse", "temp"]],
      ["m#a", ["pulse", "temp"]],
      ["m#a", ["temp", "pulse"]], // same metrics, another order
      ["m#a", ["temp", "pulse", "spo2"]], // another set on the same model key
      ["m#b", ["temp", "pulse"]],
      ["m#a", ["temp"]],
      ["m#a", []],
    ];
    for (const [modelKey, keys] of cases) {
      const names = [...keys].sort();
      expect(sets.of(modelKey, keys)).toMatchObject({ names, detectorKey: detectorKeyOf(modelKey, names) });
    }
    const first = sets.of("m#c", ["b", "a"]);
    expect(sets.of("m#c", ["b", "a"]).names).toBe(first.names); // shared, not re-sorted
    expect(first.names).toEqual(["a", "b"]);
  });
});
