import { Duration, aws_cloudwatch as cloudwatch } from "aws-cdk-lib";
import { powertoolsMetricTarget } from "./monitoring-config.ts";

/**
 * The custom (Powertools EMF) metrics the handlers emit, by producer. All share one namespace and one `service`
 * dimension (`powertoolsMetricTarget`), so a name means the same series whichever function emits it. The stack
 * test checks every name here still occurs in its producer's source, so a renamed metric fails the build instead
 * of leaving an empty graph.
 */
export const TRANSFORM_METRICS = {
  /** Records per transformation invocation, by outcome (packages/functions/src/firehose/transform.ts). */
  recordsIn: "RecordsIn",
  recordsOk: "RecordsOk",
  recordsRejected: "RecordsRejected",
  recordsDropped: "RecordsDropped",
  phiValuesVaulted: "PhiValuesVaulted",
  /** One per invocation that threw (Firehose retries the batch). Extra dimension `code` on the next one. */
  invocationFailed: "TransformInvocationFailed",
  rejectedByCode: "RecordsRejectedByCode",
} as const;

/** Emitted through the scoring observer (packages/core/src/scoring/window-scorer.ts, via kinesis/score.ts). */
export const SCORING_METRICS = {
  recordsReceived: "RecordsReceived",
  recordsScored: "RecordsScored",
  /** Records the scoring path skips as invalid (the ingest path already wrote their error records). */
  recordsSkippedInvalid: "RecordsSkippedInvalid",
  anomalousRecords: "AnomalousRecords",
  alertsRaised: "AlertsRaised",
  escalationsStarted: "EscalationsStarted",
  silenceAlerts: "SilenceAlerts",
  stuckAlerts: "StuckAlerts",
  partialFlushes: "PartialFlushes",
  aggregatePartsWritten: "AggregatePartsWritten",
  checkpointsWritten: "CheckpointsWritten",
  /** Milliseconds. */
  checkpointTime: "CheckpointTime",
  /** Bytes of tumbling-window state returned to Lambda (capped at 1 MB per shard). */
  windowStateSize: "WindowStateSize",
} as const;

/** Emitted by the escalation task handlers and the acknowledgement endpoint (packages/functions/src/{stepfunctions,http}). */
export const ESCALATION_METRICS = {
  incidentsOpened: "IncidentsOpened",
  alertsFolded: "AlertsFolded",
  incidentsClosed: "IncidentsClosed",
  ackTimeouts: "AckTimeouts",
  incidentsUnacknowledged: "IncidentsUnacknowledged",
  notificationsSent: "NotificationsSent",
  notificationAttemptsFailed: "NotificationAttemptsFailed",
  notificationChannelFailures: "NotificationChannelFailures",
  tierUndelivered: "TierUndelivered",
  escalationStepErrors: "EscalationStepErrors",
  ackLinksUsed: "AckLinksUsed",
  ackLinksRefused: "AckLinksRefused",
} as const;

/** Lambda tumbling-window state limit per shard (bytes), drawn on the window-state graph. */
export const WINDOW_STATE_LIMIT_BYTES = 1024 * 1024;

/** A Powertools metric of `stage` (Sum per `period` unless told otherwise). */
export function powertoolsMetric(
  stage: string,
  metricName: string,
  options: { label?: string; statistic?: string; period?: Duration } = {},
): cloudwatch.Metric {
  const { namespace, dimensionsMap } = powertoolsMetricTarget(stage);
  return new cloudwatch.Metric({
    namespace,
    metricName,
    dimensionsMap,
    statistic: options.statistic ?? "Sum",
    period: options.period ?? Duration.minutes(5),
    label: options.label,
  });
}

/**
 * The rejections-by-reason series (one per `code`), found by a search expression: the codes are open-ended
 * (validation, unknown device, unknown topic, …) so they cannot be listed at synth time.
 */
export function rejectedByCodeSearch(stage: string, period = Duration.minutes(5)): cloudwatch.MathExpression {
  const { namespace, dimensionsMap } = powertoolsMetricTarget(stage);
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${namespace},code,service} MetricName="${TRANSFORM_METRICS.rejectedByCode}" service="${dimensionsMap.service}"', 'Sum', ${period.toSeconds()})`,
    label: "",
    period,
  });
}
