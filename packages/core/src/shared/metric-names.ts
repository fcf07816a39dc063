/**
 * The custom metric names (Powertools EMF, one namespace, `service` = the stage's service) in one place: the
 * handlers and core's scorer emit them, the stacks graph and alarm on them (stacks/constructs/monitoring-metrics.ts
 * re-exports these). A renamed metric is a compile error on both sides instead of an empty graph.
 */

/** Records per transformation invocation, by outcome (packages/functions/src/firehose/transform.ts). */
export const TRANSFORM_METRICS = {
  recordsIn: "RecordsIn",
  recordsOk: "RecordsOk",
  recordsRejected: "RecordsRejected",
  recordsDropped: "RecordsDropped",
  phiValuesVaulted: "PhiValuesVaulted",
  /** Fields matched only as near misses of a catalogued PHI name (candidates for the PHI catalogue). */
  phiNearMisses: "PhiNearMisses",
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
  /** Silence incidents resolved because their device reported again. */
  silenceResolvedOnReturn: "SilenceResolvedOnReturn",
  /** Window ticks the schedule put into the telemetry stream (one per open shard per minute; ADR 0606). */
  windowTicksPut: "WindowTicksPut",
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
