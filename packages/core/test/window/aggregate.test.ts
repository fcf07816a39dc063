import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  aggregateStats,
  emptyAggregate,
  mergeAggregates,
  observe,
  type MetricAggregate,
} from "../../src/window/aggregate.ts";

function aggregateOf(values: readonly number[], t0 = 1_000): MetricAggregate {
  const agg = emptyAggregate();
  values.forEach((value, i) =>
    observe(agg, { value, eventMs: t0 + i, score: (i % 7) / 3, anomaly: i % 5 === 0 }),
  );
  return agg;
}

const close = (a: number, b: number, scale: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, scale);

describe("window aggregate", () => {
  it("computes count, sum, min, max, avg and sample stddev like a two-pass computation", () => {
    const values = [63.23, 64.1, 62.9, 70.4, 61.0, 65.5];
    const agg = aggregateOf(values);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
    const { avg, stddev } = aggregateStats(agg);
    expect(agg.count).toBe(6);
    expect(agg.min).toBe(61.0);
    expect(agg.max).toBe(70.4);
    expect(avg).toBeCloseTo(mean, 12);
    expect(stddev).toBeCloseTo(Math.sqrt(variance), 12);
    expect(agg.firstEventMs).toBe(1_000);
    expect(agg.lastEventMs).toBe(1_005);
    expect(agg.anomalies).toBe(2);
    expect(agg.maxScore).toBeCloseTo(5 / 3, 12);
  });

  it("has stddev 0 for a single observation and an empty aggregate reports zeros", () => {
    expect(aggregateStats(aggregateOf([4])).stddev).toBe(0);
    expect(aggregateStats(emptyAggregate())).toEqual({ avg: 0, stddev: 0 });
  });

  it("merges exactly: any split of the observations merges to the sequential aggregate", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (values, cutsRaw) => {
          const cuts = [...new Set(cutsRaw.map((c) => c % (values.length + 1)))].sort((a, b) => a - b);
          const pieces: number[][] = [];
          let from = 0;
          for (const cut of [...cuts, values.length]) {
            pieces.push(values.slice(from, cut));
            from = cut;
          }
          let t = 1_000;
          const partials = pieces.map((piece) => {
            const agg = aggregateOf(piece, t);
            t += piece.length;
            return agg;
          });
          // Scores/anomalies depend on the index inside a piece: compare those against the same pieces.
          const merged = partials.reduce((a, b) => mergeAggregates(a, b), emptyAggregate());
          const whole = aggregateOf(values);
          const scale = Math.max(...values.map(Math.abs)) * values.length;
          expect(merged.count).toBe(whole.count);
          expect(merged.min).toBe(whole.min);
          expect(merged.max).toBe(whole.max);
          expect(merged.firstEventMs).toBe(whole.firstEventMs);
          expect(merged.lastEventMs).toBe(whole.lastEventMs);
          expect(close(merged.sum, whole.sum, scale)).toBe(true);
          expect(close(merged.mean, whole.mean, scale)).toBe(true);
          expect(close(Math.sqrt(merged.m2), Math.sqrt(whole.m2), scale)).toBe(true);
        },
      ),
      { seed: 4242, numRuns: 300 },
    );
  });

  it("merging is commutative for the order-free fields and ignores empty sides", () => {
    const a = aggregateOf([1, 2, 3]);
    const b = aggregateOf([10, 20], 5_000);
    const ab = mergeAggregates(a, b);
    const ba = mergeAggregates(b, a);
    expect(ab.count).toBe(ba.count);
    expect(ab.min).toBe(ba.min);
    expect(ab.max).toBe(ba.max);
    expect(ab.anomalies).toBe(ba.anomalies);
    expect(ab.mean).toBeCloseTo(ba.mean, 12);
    expect(mergeAggregates(emptyAggregate(), a)).toEqual(a);
    expect(mergeAggregates(a, emptyAggregate())).toEqual(a);
  });
});
