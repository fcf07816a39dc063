import { describe, expect, it } from "vitest";
import type { ThresholdsStore } from "@driftwatch/core/ports/thresholds-store";
import { thresholdRuleSchema, type ThresholdRule } from "@driftwatch/core/thresholds/threshold-rule";
import { BatchingThresholdsStore } from "../../src/storage/batching-readers.ts";

const rule = (scope: string, max: number) => thresholdRuleSchema.parse({ scope, bounds: { temp: { max } } });

/** A store that records each `getMany` call (the BatchGetItem calls the DynamoDB adapter would make). */
class RecordingStore implements ThresholdsStore {
  calls: string[][] = [];
  failNext = false;
  constructor(private readonly rules: ThresholdRule[]) {}
  async getMany(scopes: readonly string[]): Promise<ThresholdRule[]> {
    this.calls.push([...scopes]);
    if (this.failNext) {
      this.failNext = false;
      throw new Error("throttled");
    }
    return this.rules.filter((r) => scopes.includes(r.scope));
  }
}

describe("BatchingThresholdsStore (local mode's merged thresholds reads)", () => {
  it("answers concurrent lookups with one inner call each returning only the rules asked for", async () => {
    const store = new RecordingStore([rule("global", 90), rule("device#a", 50), rule("device#c", 70)]);
    const batching = new BatchingThresholdsStore(store);
    const [a, b, c] = await Promise.all([
      batching.getMany(["device#a", "global"]),
      batching.getMany(["device#b", "global"]),
      batching.getMany(["device#c"]),
    ]);
    expect(store.calls).toHaveLength(1);
    expect(new Set(store.calls[0])).toEqual(new Set(["device#a", "device#b", "device#c", "global"]));
    expect(a.map((r) => r.scope).sort()).toEqual(["device#a", "global"]);
    expect(b.map((r) => r.scope)).toEqual(["global"]);
    expect(c.map((r) => r.scope)).toEqual(["device#c"]);
    // A later lookup is a new call (nothing cached here: caching is CachedThresholds' job).
    expect((await batching.getMany(["global"])).map((r) => r.scope)).toEqual(["global"]);
    expect(store.calls).toHaveLength(2);
  });

  it("fails every lookup of a failed call, and the next call is made afresh", async () => {
    const store = new RecordingStore([rule("global", 90)]);
    const batching = new BatchingThresholdsStore(store);
    store.failNext = true;
    const results = await Promise.allSettled([batching.getMany(["global"]), batching.getMany(["device#x"])]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((await batching.getMany(["global"])).map((r) => r.scope)).toEqual(["global"]);
  });

  it("splits more than 100 scopes into calls of at most 100", async () => {
    const store = new RecordingStore([rule("global", 90)]);
    const batching = new BatchingThresholdsStore(store);
    const scopes = Array.from({ length: 250 }, (_, i) => `device#d${i}`);
    await Promise.all(scopes.map((scope) => batching.getMany([scope, "global"])));
    expect(store.calls.map((c) => c.length)).toEqual([100, 100, 51]);
  });
});
