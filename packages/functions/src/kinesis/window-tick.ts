import { KinesisClient } from "@aws-sdk/client-kinesis";
import middy from "@middy/core";
import type { Context, ScheduledEvent } from "aws-lambda";
import { windowTickRecords, type TickRecord, type TickShard } from "@driftwatch/core/scoring/window-tick";
import { SCORING_METRICS } from "@driftwatch/core/shared/metric-names";
import { KinesisWindowTicks } from "../adapters/kinesis-window-ticks.ts";
import { tracedClient } from "../shared/aws-client.ts";
import { lazy, readConfig, required } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";

/**
 * The window-tick schedule (EventBridge, every minute, per stage; ADR 0606): puts one tick record into every open
 * shard of the `telemetry` stream, so the scoring function's tumbling windows close on every shard even when all
 * of its devices are quiet (Lambda invokes a shard only when it has records) — and the scorer's silence rule
 * (device and site) runs over the presence it keeps, exactly as in local mode. The scorer skips ticks.
 */
export interface WindowTickDeps {
  shards: { openShards(): Promise<TickShard[]>; put(records: readonly TickRecord[]): Promise<void> };
  now: () => number;
}

const kinesis = tracedClient(() => new KinesisClient({}));

export const awsWindowTickDeps = lazy(async (): Promise<WindowTickDeps> => {
  const config = readConfig({ TELEMETRY_STREAM_ARN: required() });
  return { shards: new KinesisWindowTicks(kinesis(), config.TELEMETRY_STREAM_ARN), now: Date.now };
});

export function createWindowTickHandler(getDeps: () => Promise<WindowTickDeps>) {
  const handle = async (event: ScheduledEvent, _context: Context): Promise<{ shards: number }> => {
    const deps = await getDeps();
    const shards = await deps.shards.openShards();
    // The schedule's own time is the tick's `receivedAt` (a retried invocation puts the same envelope again).
    const at = Date.parse(event.time);
    await deps.shards.put(windowTickRecords(shards, Number.isFinite(at) ? at : deps.now()));
    metrics.addMetric(SCORING_METRICS.windowTicksPut, MetricUnit.Count, shards.length);
    logger.info("window ticks put", { shards: shards.length, scheduledAt: event.time });
    return { shards: shards.length };
  };
  return withObservability(middy(handle));
}

export const handler = createWindowTickHandler(awsWindowTickDeps);
