import type { IngestBatchSummary } from "@driftwatch/core/telemetry/ingest-batch";
import { TRANSFORM_METRICS } from "@driftwatch/core/shared/metric-names";
import { logger, metrics, MetricUnit } from "./observability.ts";

/**
 * What the two runners of core's ingest batch logic report — the Firehose transformation and the stream-fed lake
 * writer (ADR 1001) — so both emit the same metrics (the dashboard and alarms read them) whichever feeds the lake.
 */

/** The per-invocation counts and the rejections by code (codes and counts only; never payload values). */
export function emitIngestBatchMetrics(summary: IngestBatchSummary): void {
  metrics.addMetric(TRANSFORM_METRICS.recordsIn, MetricUnit.Count, summary.records);
  metrics.addMetric(TRANSFORM_METRICS.recordsOk, MetricUnit.Count, summary.readings);
  metrics.addMetric(TRANSFORM_METRICS.recordsRejected, MetricUnit.Count, summary.rejected);
  metrics.addMetric(TRANSFORM_METRICS.recordsDropped, MetricUnit.Count, summary.dropped);
  metrics.addMetric(TRANSFORM_METRICS.phiValuesVaulted, MetricUnit.Count, summary.vaulted);
  metrics.addMetric(TRANSFORM_METRICS.phiNearMisses, MetricUnit.Count, summary.phiNearMisses);
  for (const [code, count] of Object.entries(summary.codes)) {
    metrics
      .singleMetric()
      .addDimension("code", code)
      .addMetric(TRANSFORM_METRICS.rejectedByCode, MetricUnit.Count, count);
  }
}

/** The default `onUnexpected` of the batch logic: the record id and the error's name, never its message or data. */
export function logUnexpectedRecord(recordId: string, error: unknown): void {
  logger.error("unexpected error preparing a record; recorded as INTERNAL_ERROR", {
    recordId,
    errorName: error instanceof Error ? error.name : typeof error,
  });
}
