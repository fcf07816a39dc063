import { describe, expect, it } from "vitest";
import { emptyAggregate, observe } from "../../src/window/aggregate.ts";
import { mergeParts, windowAggregateViewSchema, type AggregatePart } from "../../src/window/stored-part.ts";

const W0 = Date.UTC(2024, 0, 1, 12, 0, 0);

function part(
  shardId: string,
  segment: string,
  values: number[],
  windowStartMs = W0,
  metric = "temp",
): AggregatePart {
  const agg = emptyAggregate();
  values.forEach((v, i) => observe(agg, { value: v, eventMs: windowStartMs + i * 1000, score: v / 100 }));
  return {
    deviceId: "st-1",
    metric,
    windowStartMs,
    windowEndMs: windowStartMs + 60_000,
    shardId,
    segment,
    agg,
  };
}

describe("stored window parts", () => {
  it("merges the segments and shards of a window into the contract shape", () => {
    const views = mergeParts([
      part("shardId-000000000001", "200", [5, 6]),
      part("shardId-000000000000", "100", [1, 2, 3]),
      part("shardId-000000000000", "1000", [4]),
    ]);
    expect(views).toHaveLength(1);
    const v = windowAggregateViewSchema.parse(views[0]);
    expect(v).toMatchObject({
      deviceId: "st-1",
      metric: "temp",
      windowStart: new Date(W0).toISOString(),
      windowEnd: new Date(W0 + 60_000).toISOString(),
      count: 6,
      sum: 21,
      min: 1,
      max: 6,
      avg: 3.5,
      maxScore: 0.06,
      anomalies: 0,
    });
    expect(v.stddev).toBeCloseTo(Math.sqrt(17.5 / 5), 12);
  });

  it("counts a part given twice once (same shard and segment) and keeps windows and metrics apart", () => {
    const p = part("s", "1", [1, 2]);
    const views = mergeParts([p, { ...p }, part("s", "1", [9], W0 + 60_000), part("s", "1", [7], W0, "hum")]);
    expect(views.map((v) => [v.windowStart, v.metric, v.count])).toEqual([
      [new Date(W0).toISOString(), "hum", 1],
      [new Date(W0).toISOString(), "temp", 2],
      [new Date(W0 + 60_000).toISOString(), "temp", 1],
    ]);
  });
});
