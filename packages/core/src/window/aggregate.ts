import { z } from "zod";

/**
 * Streaming aggregate of one metric of one device over one window: a superset of the seed's 60-second SQL
 * (`COUNT(*)`, `SUM`, `AVG`) plus min, max and the running variance (Welford: `mean`, `M2`), the event-time span
 * and the detector's view (max RCF score, anomaly count).
 *
 * Aggregates merge exactly (Chan et al.'s parallel variance formula): merging the aggregates of two disjoint
 * sets of observations gives the aggregate of their union. count, min, max, event times, maxScore and anomalies
 * are bit-exact under any split; sum, mean and M2 are equal up to floating-point rounding of the additions
 * (relative error ~1e-15 per merge), which is what "exact" can mean for doubles.
 */
export const metricAggregateSchema = z.object({
  count: z.number().int().nonnegative(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  m2: z.number().nonnegative(),
  /** Smallest event time (ms since epoch) seen. */
  firstEventMs: z.number(),
  /** Largest event time (ms since epoch) seen. */
  lastEventMs: z.number(),
  /** Largest RCF score of a reading that carried this metric (0 while the forest warms up). */
  maxScore: z.number(),
  /** Readings carrying this metric that raised an alert (RCF anomaly or a bound on this metric). */
  anomalies: z.number().int().nonnegative(),
});
export type MetricAggregate = z.infer<typeof metricAggregateSchema>;

export interface Observation {
  value: number;
  eventMs: number;
  score?: number;
  anomaly?: boolean;
}

export function emptyAggregate(): MetricAggregate {
  return {
    count: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    mean: 0,
    m2: 0,
    firstEventMs: Infinity,
    lastEventMs: -Infinity,
    maxScore: 0,
    anomalies: 0,
  };
}

/** Adds one observation in place (Welford's update). */
export function observe(agg: MetricAggregate, obs: Observation): MetricAggregate {
  return observeValue(agg, obs.value, obs.eventMs, obs.score, obs.anomaly);
}

/** `observe` without an `Observation` object (the scorer's per-metric path). */
export function observeValue(
  agg: MetricAggregate,
  value: number,
  eventMs: number,
  score?: number,
  anomaly?: boolean,
): MetricAggregate {
  agg.count += 1;
  agg.sum += value;
  if (value < agg.min) agg.min = value;
  if (value > agg.max) agg.max = value;
  const delta = value - agg.mean;
  agg.mean += delta / agg.count;
  agg.m2 += delta * (value - agg.mean);
  if (eventMs < agg.firstEventMs) agg.firstEventMs = eventMs;
  if (eventMs > agg.lastEventMs) agg.lastEventMs = eventMs;
  if (score !== undefined && score > agg.maxScore) agg.maxScore = score;
  if (anomaly) agg.anomalies += 1;
  return agg;
}

/** The aggregate of the union of two disjoint sets of observations (new object; inputs untouched). */
export function mergeAggregates(a: MetricAggregate, b: MetricAggregate): MetricAggregate {
  if (a.count === 0) return { ...b };
  if (b.count === 0) return { ...a };
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  return {
    count,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    mean: a.mean + (delta * b.count) / count,
    m2: a.m2 + b.m2 + (delta * delta * a.count * b.count) / count,
    firstEventMs: Math.min(a.firstEventMs, b.firstEventMs),
    lastEventMs: Math.max(a.lastEventMs, b.lastEventMs),
    maxScore: Math.max(a.maxScore, b.maxScore),
    anomalies: a.anomalies + b.anomalies,
  };
}

/** Average and sample standard deviation (n − 1; 0 for a single observation). */
export function aggregateStats(agg: MetricAggregate): { avg: number; stddev: number } {
  if (agg.count === 0) return { avg: 0, stddev: 0 };
  const variance = agg.count > 1 ? Math.max(0, agg.m2) / (agg.count - 1) : 0;
  return { avg: agg.sum / agg.count, stddev: Math.sqrt(variance) };
}
