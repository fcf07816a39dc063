import { describe, expect, it } from "vitest";
import { mergeParts, type AggregatePart } from "@driftwatch/core/window/stored-part";
import { METRICS_JSON_FIELDS, toMetricsJson } from "../../src/cli/commands/metrics.ts";

/** `metrics --json` prints exactly DESIGN.md's field set (the API view has two more fields). */
const part = (segment: string, values: number[]): AggregatePart => {
  const sum = values.reduce((a, b) => a + b, 0);
  const mean = sum / values.length;
  return {
    deviceId: "vzqHb8vghO",
    metric: "vib",
    windowStartMs: Date.parse("2024-05-01T10:00:00Z"),
    windowEndMs: Date.parse("2024-05-01T10:01:00Z"),
    shardId: "shardId-000000000000",
    segment,
    agg: {
      count: values.length,
      sum,
      min: Math.min(...values),
      max: Math.max(...values),
      mean,
      m2: values.reduce((a, v) => a + (v - mean) ** 2, 0),
      firstEventMs: Date.parse("2024-05-01T09:59:58Z"),
      lastEventMs: Date.parse("2024-05-01T10:00:30Z"),
      maxScore: 1.5,
      anomalies: 1,
    },
  };
};

describe("metrics --json", () => {
  it("has exactly the contract's fields, times ISO 8601, values from the merged aggregate", () => {
    const views = mergeParts([part("1", [1, 2]), part("2", [3])]);
    expect(Object.keys(views[0])).toContain("firstEventAt"); // the API view carries more
    const [row] = toMetricsJson(views);
    expect(Object.keys(row)).toEqual([...METRICS_JSON_FIELDS]);
    expect(row).toMatchObject({
      deviceId: "vzqHb8vghO",
      metric: "vib",
      windowStart: "2024-05-01T10:00:00.000Z",
      windowEnd: "2024-05-01T10:01:00.000Z",
      count: 3,
      sum: 6,
      min: 1,
      max: 3,
      avg: 2,
      maxScore: 1.5,
      anomalies: 2,
    });
    expect(row.stddev as number).toBeCloseTo(1, 12); // sample standard deviation of 1, 2, 3
    expect(Object.keys(toMetricsJson(views, { eventTimes: true })[0])).toEqual([
      ...METRICS_JSON_FIELDS,
      "firstEventAt",
      "lastEventAt",
    ]);
  });
});
