import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import middy from "@middy/core";
import type {
  Context,
  FirehoseTransformationEvent,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from "aws-lambda";
import { DriftwatchError } from "@driftwatch/core/shared/errors";
import { TRANSFORM_METRICS } from "@driftwatch/core/shared/metric-names";
import { CachedRegistry } from "@driftwatch/core/telemetry/cached-registry";
import {
  transformIngestBatch,
  type IngestBatchDeps,
  type IngestBatchSummary,
} from "@driftwatch/core/telemetry/ingest-batch";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { DynamoDeviceRegistry } from "../adapters/dynamo-device-registry.ts";
import { tracedClient } from "../shared/aws-client.ts";
import { lazy, positiveInt, readConfig, required, seconds } from "../shared/config.ts";
import { emitIngestBatchMetrics, logUnexpectedRecord } from "../shared/ingest-batch-report.ts";
import { MetricUnit, logger, metrics, withObservability } from "../shared/observability.ts";
import { createAwsPrivacy, privacyConfigShape } from "../shared/privacy.ts";

/**
 * The Firehose transformation of the `ingest` delivery stream: a thin handler around core's
 * `transformIngestBatch` (per-record outcomes, duplicate dropping, worker pool, hour cache; see ADR 0200):
 *
 * - a good message → `Ok`, zone `readings`, data = the de-identified, enriched reading as one NDJSON line;
 * - bad input (any `ValidationError`: malformed, over a limit, wrong schema, unknown topic or device, …) →
 *   `Ok`, zone `errors`, data = the error record (codes, paths and types, never values; Firehose's own
 *   `ProcessingFailed` output would hold the raw record, PHI included, so this handler never returns it);
 * - an unexpected throw on one record → `Ok`, zone `errors`, code `INTERNAL_ERROR`: that record alone;
 * - a record byte-identical to an earlier one in the same invocation → `Dropped`;
 * - a dependency failure (`TransientError`, `ConfigurationError`) → the whole invocation throws and Firehose
 *   retries it; vault writes are idempotent, so a retry repeats nothing visible.
 */
export type TransformDeps = IngestBatchDeps;
export type TransformSummary = IngestBatchSummary;

/** Transforms one event; throws on transient/configuration failures (the invocation must be retried). */
export async function transformRecords(
  event: FirehoseTransformationEvent,
  deps: TransformDeps,
): Promise<{ result: FirehoseTransformationResult; summary: TransformSummary }> {
  const { outcomes, summary } = await transformIngestBatch(
    (event.records ?? []).map((record) => ({
      recordId: record.recordId,
      data: record.data,
      arrivalMs: record.approximateArrivalTimestamp,
    })),
    {
      ...deps,
      onUnexpected: deps.onUnexpected ?? logUnexpectedRecord,
    },
  );
  const records: FirehoseTransformationResultRecord[] = outcomes.map((outcome) => ({
    recordId: outcome.recordId,
    result: outcome.result,
    data: outcome.data,
    metadata: { partitionKeys: outcome.partitionKeys },
  }));
  return { result: { records }, summary };
}

/** Emits the per-invocation metrics and summary log line (codes and counts only; never payload values). */
function report(summary: TransformSummary, event: FirehoseTransformationEvent, startedAt: number): void {
  emitIngestBatchMetrics(summary);
  logger.info("transformed batch", {
    invocationId: event.invocationId,
    records: summary.records,
    readings: summary.readings,
    rejected: summary.rejected,
    dropped: summary.dropped,
    vaulted: summary.vaulted,
    phiNearMisses: summary.phiNearMisses,
    codes: summary.codes,
    durationMs: Date.now() - startedAt,
  });
}

/**
 * The handler with its dependencies supplied by `deps` (called on every invocation; memoize it — `lazy` does).
 * Local mode passes local adapters; `handler` below builds the AWS ones.
 */
export function createTransformHandler(deps: () => Promise<TransformDeps>) {
  const handle = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const startedAt = Date.now();
    const resolved = await deps();
    try {
      const { result, summary } = await transformRecords(event, resolved);
      report(summary, event, startedAt);
      return result;
    } catch (error) {
      metrics.addMetric(TRANSFORM_METRICS.invocationFailed, MetricUnit.Count, 1);
      logger.error("transformation failed; Firehose will retry the batch", {
        invocationId: event.invocationId,
        records: event.records?.length ?? 0,
        errorName: error instanceof Error ? error.name : typeof error,
        code: error instanceof DriftwatchError ? error.code : undefined,
      });
      throw error;
    }
  };
  return withObservability(
    middy<FirehoseTransformationEvent, FirehoseTransformationResult, Error, Context>(handle),
  );
}

/** The transformation group's clients: each built once per cold start, on first use, traced. */
const dynamoClient = tracedClient(() => new DynamoDBClient({}));
const kmsClient = tracedClient(() => new KMSClient({}));

/** AWS wiring, built on the first invocation (module import reads no configuration and creates no clients). */
export async function createAwsTransformDeps(env: NodeJS.ProcessEnv = process.env): Promise<TransformDeps> {
  const config = readConfig(
    {
      ...privacyConfigShape(true),
      DEVICES_TABLE: required(),
      DEVICE_CACHE_TTL_SECONDS: seconds(300),
      DEVICE_NEGATIVE_CACHE_TTL_SECONDS: seconds(30),
      TRANSFORM_CONCURRENCY: positiveInt(32),
    },
    env,
  );
  const dynamo = dynamoClient();
  const kms = kmsClient();
  const privacy = await createAwsPrivacy({ vault: true, config, kms, dynamo });
  const registry = new CachedRegistry(new DynamoDeviceRegistry(dynamo, config.DEVICES_TABLE), {
    ttlMs: config.DEVICE_CACHE_TTL_SECONDS * 1000,
    negativeTtlMs: config.DEVICE_NEGATIVE_CACHE_TTL_SECONDS * 1000,
  });
  return {
    preparer: createReadingPreparer({ registry, deidentifier: privacy.deidentifier, vault: privacy.vault }),
    deidentifier: privacy.deidentifier,
    concurrency: config.TRANSFORM_CONCURRENCY,
  };
}

export const handler = createTransformHandler(lazy(() => createAwsTransformDeps()));
