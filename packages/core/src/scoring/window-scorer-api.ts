import type { IncidentResolver } from "../incidents/resolve-on-return.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { EscalationStarter } from "../ports/escalation-starter.ts";
import type { MetricsStore } from "../ports/metrics-store.ts";
import type { ScoreArchive } from "../ports/score-archive.ts";
import type { Envelope } from "../telemetry/envelope.ts";
import type { Reading } from "../telemetry/reading.ts";
import type { EffectiveThresholds } from "../thresholds/resolve.ts";
import type { ScopedDevice } from "../thresholds/threshold-rule.ts";
import type { DetectorPool } from "./detector-pool.ts";
import type { StuckTrackerOptions } from "./stuck-tracker.ts";
import { SCORING_METRICS } from "../shared/metric-names.ts";

/** The inputs, outputs and ports of `WindowScorer` (window-scorer.ts), kept apart so the scorer holds logic only. */

/** A Kinesis record as the scorer needs it (the handler maps Lambda's event onto this). */
export interface StreamRecord {
  sequenceNumber: string;
  partitionKey: string;
  /** `approximateArrivalTimestamp`, ms since epoch. */
  arrivalMs: number;
  /** Base64 of the record data (the JSON of an `Envelope`). */
  data: string;
  /** The envelope already decoded (a replay builds records from the lake): `data` is then not decoded. */
  envelope?: Envelope;
}

/** One invocation of the tumbling-window event source mapping. */
export interface WindowBatch {
  shardId: string;
  window: { startMs: number; endMs: number };
  state: Record<string, unknown> | undefined;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
  records: readonly StreamRecord[];
}

export interface WindowBatchResult {
  /** The window state to hand back to Lambda (`{}` after a final invoke). */
  state: Record<string, string>;
  /** First record NOT processed because of a retryable failure: report it in `batchItemFailures`. */
  failedSequenceNumber?: string;
  summary: BatchSummary;
}

export interface BatchSummary {
  records: number;
  scored: number;
  rejected: number;
  alertsRaised: number;
  /** Records anomalous under some rule (counted whether or not they started an alert). */
  anomalous: number;
  escalationsStarted: number;
  partsWritten: number;
  flushes: number;
  checkpointsWritten: number;
  checkpointMs: number;
  /** Silence alerts started (per device, and per site: `silence:site`). */
  silenced: number;
  /** Silence incidents resolved because the device reported again. */
  returned: number;
  /** Stuck-sensor alerts raised (once per stuck run). */
  stuck: number;
  stateBytes: number;
}

/** Prepares a reading exactly as the ingest transform does (the same core code), here without the vault write. */
export interface RecordPreparer {
  prepare(envelope: Envelope, options?: { vault?: boolean }): Promise<{ reading: Reading; modelKey: string }>;
}

export interface ThresholdResolver {
  resolve(device: ScopedDevice): Promise<EffectiveThresholds>;
}

/** Observability hooks (the handler maps them to Powertools metrics and logs). Never given PHI. */
export interface ScoringObserver {
  metric(name: string, value: number, unit: "Count" | "Bytes" | "Milliseconds"): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface WindowScorerOptions {
  /** Window length, ms (for silence detection). */
  windowMs: number;
  /** Flush a partial segment before the encoded state could exceed this (default 900 KiB of Lambda's 1 MiB). */
  stateBudgetBytes?: number;
  /**
   * Windows a silence must span before `silence` (the window of the last reading and the whole quiet windows after
   * it), unless a threshold scope sets `silenceWindows`; 0 disables. Default 3. A device
   * is also only silent once it has shown a cadence and missed several of its own intervals (ADR 0606).
   */
  silenceWindows?: number;
  /** Forget silenced devices quiet for longer than this many windows. Default 10,080 (a week of minutes). */
  forgetAfterWindows?: number;
  /** Seconds after the window end that stored aggregates live (DynamoDB TTL). Default 30 days. */
  metricsTtlSeconds?: number;
  /**
   * Stuck-sensor rule: repeats of the exact same value before `stuck:<metric>`, unless a threshold scope sets
   * `stuckReadings`; 0 disables. Default 5 (`DEFAULT_STUCK_READINGS`). ADR 0605.
   */
  stuckReadings?: number;
  /** Tuning and bounds of the per-series run state (see `StuckTracker`). */
  stuck?: StuckTrackerOptions;
  /**
   * Snapshot the per-shard state (presence, stuck runs, recent reading ids) to `checkpoints` at window ends and
   * flushes, for a cold start to resume. Default true; a replay (ADR 0902), whose state lives for one run in one
   * process and is never read back, sets false.
   */
  snapshotState?: boolean;
}

export interface WindowScorerDeps {
  preparer: RecordPreparer;
  detectors: DetectorPool;
  thresholds: ThresholdResolver;
  escalation: EscalationStarter;
  metrics: MetricsStore;
  archive: ScoreArchive;
  /** Holds the per-shard presence snapshot (next to the model checkpoints). */
  checkpoints: CheckpointStore;
  clock: Clock;
  /** Resolves a silence incident when its device reports again; without it, silence incidents resolve as usual. */
  incidents?: IncidentResolver;
  observer?: ScoringObserver;
  options: WindowScorerOptions;
}

/** The batch summary as metrics (the handler maps them to Powertools metrics). */
export function emitBatchMetrics(o: ScoringObserver, summary: BatchSummary): void {
  o.metric(SCORING_METRICS.recordsReceived, summary.records, "Count");
  o.metric(SCORING_METRICS.recordsScored, summary.scored, "Count");
  if (summary.rejected) o.metric(SCORING_METRICS.recordsSkippedInvalid, summary.rejected, "Count");
  if (summary.alertsRaised) o.metric(SCORING_METRICS.alertsRaised, summary.alertsRaised, "Count");
  if (summary.anomalous) o.metric(SCORING_METRICS.anomalousRecords, summary.anomalous, "Count");
  if (summary.escalationsStarted)
    o.metric(SCORING_METRICS.escalationsStarted, summary.escalationsStarted, "Count");
  if (summary.flushes) o.metric(SCORING_METRICS.partialFlushes, summary.flushes, "Count");
  if (summary.partsWritten) o.metric(SCORING_METRICS.aggregatePartsWritten, summary.partsWritten, "Count");
  if (summary.checkpointsWritten) {
    o.metric(SCORING_METRICS.checkpointsWritten, summary.checkpointsWritten, "Count");
    o.metric(SCORING_METRICS.checkpointTime, summary.checkpointMs, "Milliseconds");
  }
  if (summary.silenced) o.metric(SCORING_METRICS.silenceAlerts, summary.silenced, "Count");
  if (summary.stuck) o.metric(SCORING_METRICS.stuckAlerts, summary.stuck, "Count");
  if (summary.returned) o.metric(SCORING_METRICS.silenceResolvedOnReturn, summary.returned, "Count");
  o.metric(SCORING_METRICS.windowStateSize, summary.stateBytes, "Bytes");
}
