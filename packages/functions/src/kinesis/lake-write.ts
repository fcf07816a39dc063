import { promisify } from "node:util";
import zlib from "node:zlib";
import middy from "@middy/core";
import type { Context, KinesisStreamEvent } from "aws-lambda";
import type { LakeObjectStore } from "@driftwatch/core/ports/lake-object-store";
import { DriftwatchError } from "@driftwatch/core/shared/errors";
import { TRANSFORM_METRICS } from "@driftwatch/core/shared/metric-names";
import type { IngestBatchDeps } from "@driftwatch/core/telemetry/ingest-batch";
import { streamLakeBatch, type StreamLakeBatchSummary } from "@driftwatch/core/telemetry/stream-lake-batch";
import { emitIngestBatchMetrics, logUnexpectedRecord } from "../shared/ingest-batch-report.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";

const gzip = promisify(zlib.gzip);

/**
 * The lake writer (ADR 1001, lake feed `stream`): a consumer of the `telemetry` stream — the stream the scoring
 * function already reads — that writes the lake's readings/, errors/ and raw/ objects itself, so the IoT rules
 * need no Firehose action (one rule action and Firehose's 5 KB rounding per message less). Each batch runs core's
 * `streamLakeBatch` (the Firehose transformation's batch logic: validation, de-identification, outcomes) and puts
 * one gzip object per zone and hour, named after the shard and sequence range, so a retried batch overwrites its
 * own objects. Any failure throws: the event source mapping retries the same batch (bisection off) until it is
 * written, or the records age out of the stream into the on-failure queue (alarmed).
 */
export interface LakeWriteDeps extends IngestBatchDeps {
  store: LakeObjectStore;
}

export async function writeLakeBatch(
  event: KinesisStreamEvent,
  deps: LakeWriteDeps,
): Promise<{ summary: StreamLakeBatchSummary; keys: string[] }> {
  const records = event.Records ?? [];
  const shardId = shardIdOf(records[0]?.eventID) ?? "shardId-unknown";
  const { objects, summary } = await streamLakeBatch(
    shardId,
    records.map((r) => ({
      sequenceNumber: r.kinesis.sequenceNumber,
      data: r.kinesis.data,
      arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
    })),
    {
      ...deps,
      onUnexpected: deps.onUnexpected ?? logUnexpectedRecord,
    },
  );
  const keys = await Promise.all(
    objects.map(async (object) => {
      const key = `${object.key}.gz`;
      await deps.store.put({ zone: object.zone, key, body: await gzip(object.body) });
      return key;
    }),
  );
  return { summary, keys };
}

function report(summary: StreamLakeBatchSummary, objects: number, startedAt: number): void {
  emitIngestBatchMetrics(summary);
  logger.info("wrote lake batch", {
    records: summary.records,
    readings: summary.readings,
    rejected: summary.rejected,
    dropped: summary.dropped,
    ticks: summary.ticks,
    vaulted: summary.vaulted,
    codes: summary.codes,
    objects,
    durationMs: Date.now() - startedAt,
  });
}

/** What one invocation wrote (counts only). */
export interface LakeWriteResult {
  objects: number;
  readings: number;
  rejected: number;
  dropped: number;
}

/** The handler with its dependencies supplied by `deps` (memoized by the caller; local mode passes local ones). */
export function createLakeWriteHandler(deps: () => Promise<LakeWriteDeps>) {
  const handle = async (event: KinesisStreamEvent, _context: Context): Promise<LakeWriteResult> => {
    const startedAt = Date.now();
    const resolved = await deps();
    try {
      const { summary, keys } = await writeLakeBatch(event, resolved);
      report(summary, keys.length, startedAt);
      const { readings, rejected, dropped } = summary;
      return { objects: keys.length, readings, rejected, dropped };
    } catch (error) {
      metrics.addMetric(TRANSFORM_METRICS.invocationFailed, MetricUnit.Count, 1);
      logger.error("lake batch failed; the event source mapping retries it", {
        records: event.Records?.length ?? 0,
        errorName: error instanceof Error ? error.name : typeof error,
        code: error instanceof DriftwatchError ? error.code : undefined,
      });
      throw error;
    }
  };
  return withObservability(middy<KinesisStreamEvent, LakeWriteResult, Error, Context>(handle));
}

/** `shardId-000000000006:4959…` → `shardId-000000000006`. */
function shardIdOf(eventId: string | undefined): string | undefined {
  return eventId?.split(":")[0] || undefined;
}
