import { z } from "zod";
import { aggregateStats, mergeAggregates, metricAggregateSchema, type MetricAggregate } from "./aggregate.ts";

/**
 * One persisted piece of a window aggregate: the aggregate of one device+metric over one SEGMENT of one
 * shard's window (see `window-accumulator.ts`). A window normally has one part per series (written on the
 * final invoke); a window that held more series than fit in Lambda's 1 MB state has several, and a device whose
 * partition key moved shards during resharding has parts from the parent and the child shard.
 *
 * Key = (deviceId, metric, windowStart, shardId, segment). Writes overwrite the complete value of their key, so a
 * retried or replayed write is idempotent; reads merge every part of (deviceId, metric, windowStart) exactly.
 */
export const aggregatePartSchema = z.object({
  deviceId: z.string().min(1),
  metric: z.string().min(1),
  windowStartMs: z.number().int(),
  windowEndMs: z.number().int(),
  shardId: z.string().min(1),
  /** Sequence number of the first record of the segment. */
  segment: z.string().min(1),
  agg: metricAggregateSchema,
});
export type AggregatePart = z.infer<typeof aggregatePartSchema>;

/** The stored window aggregate as users see it (`npx driftwatch metrics --json`, the API). Times ISO 8601. */
export const windowAggregateViewSchema = z.object({
  deviceId: z.string(),
  metric: z.string(),
  windowStart: z.string(),
  windowEnd: z.string(),
  count: z.number().int(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
  avg: z.number(),
  stddev: z.number(),
  maxScore: z.number(),
  anomalies: z.number().int(),
  /** Event-time span of the readings (windows are by arrival; see ADR 0600). */
  firstEventAt: z.string(),
  lastEventAt: z.string(),
});
export type WindowAggregateView = z.infer<typeof windowAggregateViewSchema>;

/**
 * The fields of a window aggregate row in the external contract (`driftwatch metrics --json`, and the API's
 * `GET /api/devices/{deviceId}/metrics` rows), in order.
 */
export const WINDOW_AGGREGATE_FIELDS = [
  "deviceId",
  "metric",
  "windowStart",
  "windowEnd",
  "count",
  "sum",
  "min",
  "max",
  "avg",
  "stddev",
  "maxScore",
  "anomalies",
] as const;

function partOrder(a: AggregatePart, b: AggregatePart): number {
  if (a.shardId !== b.shardId) return a.shardId < b.shardId ? -1 : 1;
  // Kinesis sequence numbers are decimal strings of growing length: compare by length, then lexically.
  if (a.segment.length !== b.segment.length) return a.segment.length - b.segment.length;
  return a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0;
}

/** Merges parts into one aggregate per (device, metric, window), sorted by window start then metric. */
export function mergeParts(parts: readonly AggregatePart[]): WindowAggregateView[] {
  const groups = new Map<string, AggregatePart[]>();
  for (const part of parts) {
    const key = `${part.deviceId}\u0000${part.metric}\u0000${part.windowStartMs}`;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(part);
  }
  const views: WindowAggregateView[] = [];
  for (const list of groups.values()) {
    // A part key occurs once in a store; dedupe anyway so a caller passing a list with repeats can't double count.
    const unique = new Map(list.map((p) => [`${p.shardId}\u0000${p.segment}`, p]));
    const sorted = [...unique.values()].sort(partOrder);
    let agg: MetricAggregate = sorted[0].agg;
    for (let i = 1; i < sorted.length; i++) agg = mergeAggregates(agg, sorted[i].agg);
    views.push(toView(sorted[0], agg));
  }
  return views.sort((a, b) =>
    a.windowStart !== b.windowStart
      ? a.windowStart < b.windowStart
        ? -1
        : 1
      : a.metric < b.metric
        ? -1
        : a.metric > b.metric
          ? 1
          : a.deviceId < b.deviceId
            ? -1
            : a.deviceId > b.deviceId
              ? 1
              : 0,
  );
}

function toView(first: AggregatePart, agg: MetricAggregate): WindowAggregateView {
  const { avg, stddev } = aggregateStats(agg);
  return {
    deviceId: first.deviceId,
    metric: first.metric,
    windowStart: new Date(first.windowStartMs).toISOString(),
    windowEnd: new Date(first.windowEndMs).toISOString(),
    count: agg.count,
    sum: agg.sum,
    min: agg.min,
    max: agg.max,
    avg,
    stddev,
    maxScore: agg.maxScore,
    anomalies: agg.anomalies,
    firstEventAt: new Date(agg.firstEventMs).toISOString(),
    lastEventAt: new Date(agg.lastEventMs).toISOString(),
  };
}
