import middy from "@middy/core";
import type { Context, KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from "aws-lambda";
import {
  WindowScorer,
  type ScoringObserver,
  type WindowScorerDeps,
} from "@driftwatch/core/scoring/window-scorer";
import { parseWindow } from "@driftwatch/core/window/window-time";
import { lazy } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { awsScoreDeps } from "./deps.ts";

/**
 * The scoring Lambda: Kinesis `telemetry` → tumbling-window event source mapping → this handler.
 * Everything but the Lambda event mapping lives in core's `WindowScorer`; local mode runs this same handler
 * (`createScoreHandler` with local adapters) under its event-source-mapping emulator.
 *
 * Response (tumbling windows): `{ state, batchItemFailures }`. A record that failed retryably is reported as the
 * only item failure; Lambda checkpoints before it and retries from it with the returned state, which holds
 * exactly the records before it. Bad input (a `ValidationError`) is counted and skipped (the ingest path already
 * wrote its error record). Throwing fails the whole invocation (Lambda retries, bisecting if configured).
 */
export type ScoreHandlerDeps = Omit<WindowScorerDeps, "observer">;

/** The tumbling-window event as Lambda sends it (`@types/aws-lambda` lacks `shardId` and `eventSourceARN`). */
export type ScoreEvent = KinesisStreamTumblingWindowEvent & { shardId?: string; eventSourceARN?: string };

const observer: ScoringObserver = {
  metric: (name, value, unit) => metrics.addMetric(name, MetricUnit[unit], value),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
};

export function createScoreHandler(
  getDeps: () => Promise<ScoreHandlerDeps>,
  options: { observer?: ScoringObserver } = {},
) {
  const scorer = lazy(
    async () => new WindowScorer({ ...(await getDeps()), observer: options.observer ?? observer }),
  );
  const handle = async (event: ScoreEvent, _context: Context): Promise<KinesisStreamStateResponse> => {
    const records = event.Records ?? [];
    const shardId = event.shardId ?? shardIdOf(records[0]?.eventID) ?? "shardId-unknown";
    const window = parseWindow(event.window);
    const result = await (
      await scorer()
    ).processBatch({
      shardId,
      window,
      state: event.state,
      isFinalInvokeForWindow: event.isFinalInvokeForWindow === true,
      isWindowTerminatedEarly: event.isWindowTerminatedEarly === true,
      records: records.map((r) => ({
        sequenceNumber: r.kinesis.sequenceNumber,
        partitionKey: r.kinesis.partitionKey,
        arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
        data: r.kinesis.data,
      })),
    });
    if (event.isFinalInvokeForWindow) {
      logger.info("window closed", {
        shardId,
        windowStart: event.window.start,
        partsWritten: result.summary.partsWritten,
        checkpoints: result.summary.checkpointsWritten,
        silenced: result.summary.silenced,
      });
    }
    return {
      state: result.state,
      batchItemFailures: result.failedSequenceNumber ? [{ itemIdentifier: result.failedSequenceNumber }] : [],
    };
  };
  return withObservability(middy(handle));
}

/** `shardId-000000000006:4959…` → `shardId-000000000006` (older events lack the top-level `shardId`). */
function shardIdOf(eventId: string | undefined): string | undefined {
  return eventId?.split(":")[0] || undefined;
}

export const handler = createScoreHandler(() => awsScoreDeps());
