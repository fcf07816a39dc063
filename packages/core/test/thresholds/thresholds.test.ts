import { describe, expect, it } from "vitest";
import type { ThresholdsStore } from "../../src/ports/thresholds-store.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import { boundViolations, isAnomalous } from "../../src/thresholds/evaluate.ts";
import { resolveThresholds, stuckReadingsFor } from "../../src/thresholds/resolve.ts";
import { scopeKeysOf, thresholdRuleSchema, type ThresholdRule } from "../../src/thresholds/threshold-rule.ts";

const device = { deviceId: "fan-7", manufacturer: "acme", model: "f100" };

const rules: ThresholdRule[] = [
  thresholdRuleSchema.parse({
    scope: "global",
    bounds: { RPM: { min: 0, max: 5000 }, FREQ: { max: 200 } },
    silenceWindows: 3,
  }),
  thresholdRuleSchema.parse({
    scope: "manufacturer#acme",
    bounds: { RPM: { max: 4000 } },
    scoreThreshold: 6,
  }),
  thresholdRuleSchema.parse({ scope: "model#acme#f100", bounds: { RPM: { min: 100, max: 3000 } } }),
  thresholdRuleSchema.parse({ scope: "device#fan-7", scoreThreshold: 4.5 }),
  thresholdRuleSchema.parse({ scope: "device#other", bounds: { RPM: { max: 1 } } }),
];

class CountingStore implements ThresholdsStore {
  calls: string[][] = [];
  constructor(public rules: ThresholdRule[]) {}
  async getMany(scopes: readonly string[]) {
    this.calls.push([...scopes]);
    return this.rules.filter((r) => scopes.includes(r.scope));
  }
}

describe("thresholds", () => {
  it("lists scopes most specific first", () => {
    expect(scopeKeysOf(device)).toEqual(["device#fan-7", "model#acme#f100", "manufacturer#acme", "global"]);
  });

  it("resolves device > model > manufacturer > global, per metric and per setting", () => {
    const t = resolveThresholds(device, rules);
    expect(t.bounds.RPM).toEqual({ min: 100, max: 3000, scope: "model#acme#f100" });
    expect(t.bounds.FREQ).toEqual({ max: 200, scope: "global" });
    expect(t.scoreThreshold).toEqual({ value: 4.5, scope: "device#fan-7" });
    expect(t.silenceWindows).toEqual({ value: 3, scope: "global" });
    const other = resolveThresholds({ deviceId: "x", manufacturer: "zeta", model: "z" }, rules);
    expect(other.bounds.RPM?.scope).toBe("global");
    expect(other.scoreThreshold).toBeUndefined();
  });

  it("flags values outside the bounds and names the rule", () => {
    const t = resolveThresholds(device, rules);
    const v = boundViolations({ RPM: 3200, FREQ: 50, other: 1e9 }, t);
    expect(v).toEqual([
      {
        metric: "RPM",
        side: "high",
        value: 3200,
        limit: 3000,
        scope: "model#acme#f100",
        rule: "bound:RPM:high",
      },
    ]);
    expect(boundViolations({ RPM: 99 }, t)[0].rule).toBe("bound:RPM:low");
    expect(boundViolations({ RPM: 3000, FREQ: 200 }, t)).toEqual([]);
  });

  it("uses an explicit score threshold over the detector's own decision", () => {
    expect(isAnomalous(5, false, resolveThresholds(device, rules))).toBe(true);
    expect(isAnomalous(4, true, resolveThresholds(device, rules))).toBe(false);
    expect(isAnomalous(4, true, resolveThresholds(device, []))).toBe(true);
  });

  it("rejects malformed rules", () => {
    expect(thresholdRuleSchema.safeParse({ scope: "site#x" }).success).toBe(false);
    expect(
      thresholdRuleSchema.safeParse({ scope: "global", bounds: { t: { min: 5, max: 1 } } }).success,
    ).toBe(false);
    expect(thresholdRuleSchema.safeParse({ scope: "global", scoreThreshold: -1 }).success).toBe(false);
  });

  it('resolves stuckReadings per metric: the most specific scope that sets it (by name, "*" or a number) wins', () => {
    const stuckRules = [
      thresholdRuleSchema.parse({ scope: "global", stuckReadings: 30 }),
      thresholdRuleSchema.parse({ scope: "manufacturer#acme", stuckReadings: { RPM: 0 } }),
      thresholdRuleSchema.parse({ scope: "model#acme#f100", stuckReadings: { FREQ: 60 } }),
      thresholdRuleSchema.parse({ scope: "device#fan-7", stuckReadings: { "*": 12, temp: 5 } }),
    ];
    const t = resolveThresholds(device, stuckRules);
    expect(stuckReadingsFor(t, "temp", 10)).toEqual({ value: 5, scope: "device#fan-7" });
    expect(stuckReadingsFor(t, "FREQ", 10)).toEqual({ value: 12, scope: "device#fan-7" });
    const other = resolveThresholds({ ...device, deviceId: "fan-8" }, stuckRules);
    expect(stuckReadingsFor(other, "FREQ", 10)).toEqual({ value: 60, scope: "model#acme#f100" });
    expect(stuckReadingsFor(other, "RPM", 10)).toEqual({ value: 0, scope: "manufacturer#acme" });
    expect(stuckReadingsFor(other, "current", 10)).toEqual({ value: 30, scope: "global" });
    expect(stuckReadingsFor(resolveThresholds(device, []), "RPM", 10)).toEqual({ value: 10 });
  });

  it("accepts stuckReadings as a count or per metric and rejects anything else", () => {
    for (const ok of [0, 10, { "*": 0 }, { RPM: 25, FREQ: 0 }]) {
      expect(thresholdRuleSchema.safeParse({ scope: "global", stuckReadings: ok }).success).toBe(true);
    }
    for (const bad of [-1, 2.5, "10", {}, { RPM: -3 }, { RPM: "x" }, 2_000_000]) {
      expect(thresholdRuleSchema.safeParse({ scope: "global", stuckReadings: bad }).success).toBe(false);
    }
  });

  it("caches each scope (and its absence) for the TTL, then reloads", async () => {
    let now = 0;
    const store = new CountingStore(rules);
    const cached = new CachedThresholds(store, { now: () => now }, { ttlMs: 30_000 });
    await cached.resolve(device);
    await cached.resolve(device);
    await cached.resolve({ ...device, deviceId: "fan-8" });
    expect(store.calls).toEqual([scopeKeysOf(device), ["device#fan-8"]]);
    store.rules = [thresholdRuleSchema.parse({ scope: "device#fan-7", scoreThreshold: 9 })];
    expect((await cached.resolve(device)).scoreThreshold?.value).toBe(4.5);
    now = 30_000;
    expect((await cached.resolve(device)).scoreThreshold?.value).toBe(9);
    expect(store.calls).toHaveLength(3);
  });

  it("resolves a device id again when it comes with another manufacturer or model (cached per id)", async () => {
    const cached = new CachedThresholds(new CountingStore(rules), { now: () => 0 });
    expect((await cached.resolve(device)).bounds.RPM).toEqual({
      min: 100,
      max: 3000,
      scope: "model#acme#f100",
    });
    const moved = { ...device, model: "f200" };
    expect((await cached.resolve(moved)).bounds.RPM).toEqual({ max: 4000, scope: "manufacturer#acme" });
    expect((await cached.resolve(device)).bounds.RPM).toEqual({
      min: 100,
      max: 3000,
      scope: "model#acme#f100",
    });
    const other = { ...device, manufacturer: "zeta" };
    expect((await cached.resolve(other)).bounds.RPM).toEqual({ min: 0, max: 5000, scope: "global" });
    expect((await cached.resolve(other)).scoreThreshold).toEqual({ value: 4.5, scope: "device#fan-7" });
  });
});
