import type { Alert, AttributionEntry } from "../alerts/alert.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { EscalationStarter } from "../ports/escalation-starter.ts";
import type { MetricsStore } from "../ports/metrics-store.ts";
import type { ScoreArchive } from "../ports/score-archive.ts";
import { ValidationError } from "../shared/errors.ts";
import type { Envelope } from "../telemetry/envelope.ts";
import { parseEnvelopeBase64 } from "../telemetry/envelope-codec.ts";
import type { Reading } from "../telemetry/reading.ts";
import { boundViolations, isAnomalous, type BoundViolation } from "../thresholds/evaluate.ts";
import { stuckReadingsFor, type EffectiveThresholds } from "../thresholds/resolve.ts";
import type { ScopedDevice } from "../thresholds/threshold-rule.ts";
import { PresenceTracker } from "../window/presence.ts";
import type { AggregatePart } from "../window/stored-part.ts";
import {
  DEFAULT_STATE_BUDGET_BYTES,
  WindowAccumulator,
  stateSizeBytes,
  type WindowSegment,
} from "../window/window-accumulator.ts";
import { detectorKeyOf, type DetectorPool, type ScoringDetector } from "./detector-pool.ts";
import { executionName } from "./execution-name.ts";
import type { ScoredRecord } from "./scored-record.ts";
import {
  DEFAULT_STUCK_READINGS,
  StuckTracker,
  stuckKeyOf,
  type StuckTrackerOptions,
  type StuckVerdict,
} from "./stuck-tracker.ts";

/** A Kinesis record as the scorer needs it (the handler maps Lambda's event onto this). */
export interface StreamRecord {
  sequenceNumber: string;
  partitionKey: string;
  /** `approximateArrivalTimestamp`, ms since epoch. */
  arrivalMs: number;
  /** Base64 of the record data (the JSON of an `Envelope`). */
  data: string;
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
  /** Records that raised at least one alert rule (RCF anomaly or a bound). */
  anomalous: number;
  escalationsStarted: number;
  partsWritten: number;
  flushes: number;
  checkpointsWritten: number;
  checkpointMs: number;
  silenced: number;
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
  /** Quiet windows before `silence`, unless a threshold scope sets `silenceWindows`; 0 disables. Default 3. */
  silenceWindows?: number;
  /** Forget silenced devices quiet for longer than this many windows. Default 10,080 (a week of minutes). */
  forgetAfterWindows?: number;
  /** Seconds after the window end that stored aggregates live (DynamoDB TTL). Default 30 days. */
  metricsTtlSeconds?: number;
  /**
   * Stuck-sensor rule: repeats of the exact same value before `stuck:<metric>`, unless a threshold scope sets
   * `stuckReadings`; 0 disables. Default 10. ADR 0605.
   */
  stuckReadings?: number;
  /** Tuning and bounds of the per-series run state (see `StuckTracker`). */
  stuck?: StuckTrackerOptions;
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
  observer?: ScoringObserver;
  options: WindowScorerOptions;
}

/** A record between the phases of `processBatch`: prepared (and, after phase 2, scored) or failed. */
interface PreparedRecord {
  record: StreamRecord;
  reading: Reading;
  modelKey: string;
  metricNames: string[];
  values: number[];
  detectorKey: string;
  device: ScopedDevice;
  thresholds: EffectiveThresholds;
  result?: ReturnType<ScoringDetector["process"]>;
}
type Slot = { prepared: PreparedRecord } | { error: unknown };

const noopObserver: ScoringObserver = { metric: () => {}, warn: () => {} };

export function presenceKeyOf(shardId: string): string {
  return `presence/${encodeURIComponent(shardId)}.json`;
}

/**
 * The scoring path of one Lambda invocation (pure orchestration over core's ports), in three phases per batch:
 * (1) in sequence order, decode → prepare (vault off) → thresholds lookup; (2) RCF score with attribution, grouped
 * by detector key so each forest stays in cache for all its records (each device's records still in order);
 * (3) in sequence order, rules → alerts started at once → window aggregates, stopping at the lowest failed record
 * (ADR 0603). Partial flushes near the state cap; on the final invoke: aggregates, model checkpoints, silence alerts.
 */
export class WindowScorer {
  private readonly observer: ScoringObserver;
  private readonly presence = new Map<string, PresenceTracker>();
  private readonly stuck = new Map<string, StuckTracker>();
  private readonly started = new Set<string>();
  private readonly budget: number;

  constructor(private readonly deps: WindowScorerDeps) {
    this.observer = deps.observer ?? noopObserver;
    this.budget = deps.options.stateBudgetBytes ?? DEFAULT_STATE_BUDGET_BYTES;
  }

  async processBatch(batch: WindowBatch): Promise<WindowBatchResult> {
    const { shardId, window } = batch;
    const acc = WindowAccumulator.fromState(batch.state, window.startMs, this.budget);
    const presence = await this.presenceOf(shardId);
    const stuck = await this.stuckOf(shardId);
    const summary: BatchSummary = {
      records: batch.records.length,
      scored: 0,
      rejected: 0,
      alertsRaised: 0,
      anomalous: 0,
      escalationsStarted: 0,
      partsWritten: 0,
      flushes: 0,
      checkpointsWritten: 0,
      checkpointMs: 0,
      silenced: 0,
      stuck: 0,
      stateBytes: 0,
    };
    const scored: ScoredRecord[] = [];
    let failedSequenceNumber: string | undefined;
    const deviceInfo = new Map<string, ScopedDevice & { site?: string }>();

    // Phase 1 (sequence order): decode, prepare, thresholds lookup. Stops at the first retryable failure.
    const slots: Slot[] = [];
    let limit = batch.records.length;
    for (let i = 0; i < batch.records.length; i++) {
      try {
        slots.push({ prepared: await this.prepareRecord(batch.records[i]) });
      } catch (error) {
        slots.push({ error });
        if (!(error instanceof ValidationError)) {
          limit = i;
          break;
        }
      }
    }
    // Phase 2 (grouped by detector key, each key's records in sequence order): forests score and update.
    await this.runDetectors(shardId, slots, limit);
    // Phase 3 (sequence order): rules, alerts, window state; stops at the lowest failing record.
    for (let i = 0; i < slots.length; i++) {
      const record = batch.records[i];
      const slot = slots[i];
      try {
        if ("error" in slot) throw slot.error;
        scored.push(await this.scoreRecord(slot.prepared, batch, acc, presence, stuck, deviceInfo, summary));
      } catch (error) {
        if (error instanceof ValidationError) {
          summary.rejected += 1;
          this.observer.warn("record rejected", {
            code: error.code,
            sequenceNumber: record.sequenceNumber,
            shardId,
          });
          continue;
        }
        failedSequenceNumber = record.sequenceNumber;
        this.observer.warn("record failed, will be retried", {
          error: (error as Error).name,
          code: (error as { code?: string }).code,
          sequenceNumber: record.sequenceNumber,
          shardId,
        });
        break;
      }
    }

    // Archive what was processed (a failure here fails the invocation; Lambda retries the batch).
    if (scored.length > 0) await this.deps.archive.putMany(scored);

    let state: Record<string, string>;
    if (batch.isFinalInvokeForWindow && failedSequenceNumber === undefined) {
      await this.finishWindow(batch, acc, presence, stuck, deviceInfo, summary);
      state = {};
    } else {
      state = acc.toState();
    }
    summary.stateBytes = stateSizeBytes(state);
    this.emit(summary);
    return { state, failedSequenceNumber, summary };
  }

  /** Phase 1 of a record: everything before the detector that can fail (decode, prepare, thresholds lookup). */
  private async prepareRecord(record: StreamRecord): Promise<PreparedRecord> {
    const envelope = parseEnvelopeBase64(record.data);
    const { reading, modelKey } = await this.deps.preparer.prepare(envelope, { vault: false });
    const metricNames = Object.keys(reading.metrics).sort();
    if (metricNames.length === 0) throw new ValidationError("reading has no metrics", { code: "NO_METRICS" });
    const values = metricNames.map((m) => reading.metrics[m]);
    const device = { deviceId: reading.deviceId, manufacturer: reading.manufacturer, model: reading.model };
    const thresholds = await this.deps.thresholds.resolve(device);
    return {
      record,
      reading,
      modelKey,
      metricNames,
      values,
      detectorKey: detectorKeyOf(modelKey, metricNames),
      device,
      thresholds,
    };
  }

  /**
   * Phase 2: runs the detectors over the prepared records `[0, limit)` grouped by detector key (stable: each key's
   * records, hence each device's, in sequence order), so one forest stays in cache for all its records of the
   * batch. A detector sees exactly the points, in the order, that record-by-record processing gives it; forests
   * (and the per-device thresholder state inside the detector) are independent of each other, so results are
   * identical. A retryable failure (checkpoint read) marks its record and stops scoring records after it.
   */
  private async runDetectors(shardId: string, slots: Slot[], limit: number): Promise<void> {
    const groups = new Map<string, number[]>();
    for (let i = 0; i < limit; i++) {
      const slot = slots[i];
      if (!("prepared" in slot)) continue;
      const group = groups.get(slot.prepared.detectorKey);
      if (group) group.push(i);
      else groups.set(slot.prepared.detectorKey, [i]);
    }
    for (const [key, indexes] of groups) {
      let detector: ScoringDetector | undefined;
      for (const i of indexes) {
        if (i >= limit) break;
        const prepared = (slots[i] as { prepared: PreparedRecord }).prepared;
        try {
          detector ??= await this.deps.detectors.get(shardId, key, prepared.metricNames.length);
          prepared.result = detector.process(prepared.values, prepared.reading.deviceId);
        } catch (error) {
          slots[i] = { error };
          if (error instanceof ValidationError) continue;
          limit = i;
          break;
        }
      }
    }
  }

  /** Phase 3 of a record: rules, alerts, then (only once nothing can fail any more) the window state. */
  private async scoreRecord(
    prepared: PreparedRecord,
    batch: WindowBatch,
    acc: WindowAccumulator,
    presence: PresenceTracker,
    stuck: StuckTracker,
    deviceInfo: Map<string, ScopedDevice & { site?: string }>,
    summary: BatchSummary,
  ): Promise<ScoredRecord> {
    const { shardId, window } = batch;
    const { record, reading, modelKey, metricNames, values, detectorKey, device, thresholds } = prepared;
    const result = prepared.result;
    if (!result) throw new Error("record reached phase 3 without a detector result");

    // Everything that can fail runs before the record touches the window state, so a failed record leaves the
    // state exactly as it was and its retry counts it once.
    const anomaly = isAnomalous(result.score, result.anomaly, thresholds);
    const violations = boundViolations(reading.metrics, thresholds);
    const attribution: AttributionEntry[] = result.attribution.map((a) => ({
      metric: metricNames[a.index],
      value: values[a.index],
      contribution: a.contribution,
      direction: a.direction,
    }));
    const grade = Math.min(1, Math.max(0, result.grade));
    const eventMs = Date.parse(reading.ts);
    const timeMs = Number.isFinite(eventMs) ? eventMs : record.arrivalMs;
    // Stuck runs are evaluated now and committed with the window state below (a failure leaves no trace).
    const verdicts: StuckVerdict[] = [];
    const defaultStuck = this.deps.options.stuckReadings ?? DEFAULT_STUCK_READINGS;
    for (let i = 0; i < metricNames.length; i++) {
      const limit = stuckReadingsFor(thresholds, metricNames[i], defaultStuck).value;
      const verdict = stuck.evaluate(reading.deviceId, metricNames[i], values[i], timeMs, limit);
      if (verdict) verdicts.push(verdict);
    }
    const rules: string[] = [];
    if (anomaly) {
      rules.push("anomaly");
      await this.raise(
        {
          kind: "anomaly",
          rule: "anomaly",
          reading,
          modelKey,
          windowStartMs: window.startMs,
          score: result.score,
          grade,
          attribution,
          message: `Anomalous reading from ${reading.deviceId}: RCF score ${result.score.toFixed(3)}${
            attribution[0] ? `, mostly ${attribution[0].metric} ${attribution[0].direction}` : ""
          }`,
        },
        summary,
      );
    }
    for (const v of violations) {
      rules.push(v.rule);
      await this.raise(
        {
          kind: "threshold",
          rule: v.rule,
          reading,
          modelKey,
          windowStartMs: window.startMs,
          score: result.score,
          grade,
          attribution,
          message: describeViolation(reading.deviceId, v),
        },
        summary,
      );
    }

    for (const v of verdicts) {
      if (!v.raise) continue;
      const rule = `stuck:${v.metric}`;
      rules.push(rule);
      await this.raise(
        {
          kind: "threshold",
          rule,
          reading,
          modelKey,
          windowStartMs: window.startMs,
          // One escalation per stuck run: keyed by the run's first reading, whichever window it crosses in.
          nameKeyMs: v.runStartMs,
          score: result.score,
          grade,
          attribution,
          message: `${v.metric} of ${reading.deviceId} has repeated ${v.value} for ${v.runLength} readings since ${new Date(v.runStartMs).toISOString()} (stuck sensor, limit ${v.limit})`,
        },
        summary,
      );
      summary.stuck += 1;
    }

    if (acc.wouldExceed(reading.deviceId, metricNames)) await this.flush(batch, acc, presence, summary);

    const violated = new Set(violations.map((v) => v.metric));
    for (const v of verdicts) if (v.stuck) violated.add(v.metric);
    acc.beginRecord(record.sequenceNumber);
    for (let i = 0; i < metricNames.length; i++) {
      acc.add(reading.deviceId, metricNames[i], {
        value: values[i],
        eventMs: timeMs,
        score: result.score,
        anomaly: anomaly || violated.has(metricNames[i]),
      });
    }
    stuck.commit(verdicts);
    deviceInfo.set(reading.deviceId, { ...device, site: reading.site });
    summary.scored += 1;
    if (rules.length > 0) summary.anomalous += 1;
    return {
      deviceId: reading.deviceId,
      ts: reading.ts,
      receivedAt: reading.receivedAt,
      arrivedAt: new Date(record.arrivalMs).toISOString(),
      windowStart: new Date(window.startMs).toISOString(),
      shardId,
      sequenceNumber: record.sequenceNumber,
      modelKey,
      detectorKey,
      manufacturer: reading.manufacturer,
      model: reading.model,
      ...(reading.site !== undefined ? { site: reading.site } : {}),
      metrics: reading.metrics,
      tags: reading.tags ?? {},
      score: result.score,
      grade,
      anomaly,
      attribution,
      rules,
      latencyMs: Math.max(0, this.deps.clock.now() - record.arrivalMs),
    };
  }

  private async raise(
    input: {
      kind: Alert["kind"];
      rule: string;
      reading: Reading;
      modelKey: string;
      windowStartMs: number;
      /** Time the execution name is keyed by, when not the window start (a stuck run's start). */
      nameKeyMs?: number;
      score?: number;
      grade?: number;
      attribution?: AttributionEntry[];
      message: string;
    },
    summary: BatchSummary,
  ): Promise<void> {
    const { reading } = input;
    await this.start(
      {
        alertId: executionName(reading.deviceId, input.rule, input.nameKeyMs ?? input.windowStartMs),
        kind: input.kind,
        rule: input.rule,
        deviceId: reading.deviceId,
        ...(reading.site !== undefined ? { site: reading.site } : {}),
        manufacturer: reading.manufacturer,
        model: reading.model,
        modelKey: input.modelKey,
        ts: reading.ts,
        windowStart: new Date(input.windowStartMs).toISOString(),
        ...(input.score !== undefined ? { score: input.score } : {}),
        ...(input.grade !== undefined ? { grade: input.grade } : {}),
        metrics: reading.metrics,
        attribution: input.attribution ?? [],
        message: input.message,
      },
      summary,
    );
  }

  /** Starts the escalation for an alert once per process (the execution name makes it once overall). */
  private async start(alert: Alert, summary: BatchSummary): Promise<void> {
    summary.alertsRaised += 1;
    if (this.started.has(alert.alertId)) return;
    const { started } = await this.deps.escalation.start(alert, alert.alertId);
    if (started) summary.escalationsStarted += 1;
    if (this.started.size >= 50_000) this.started.clear();
    this.started.add(alert.alertId);
  }

  private partsOf(batch: WindowBatch, segment: WindowSegment): AggregatePart[] {
    return segment.series.map((s) => ({
      deviceId: s.deviceId,
      metric: s.metric,
      windowStartMs: batch.window.startMs,
      windowEndMs: batch.window.endMs,
      shardId: batch.shardId,
      segment: segment.firstSequenceNumber,
      agg: s.agg,
    }));
  }

  /** Writes the current segment as parts, then starts an empty segment (only once the write succeeded). */
  private async flush(
    batch: WindowBatch,
    acc: WindowAccumulator,
    presence: PresenceTracker,
    summary: BatchSummary,
  ): Promise<void> {
    if (acc.isEmpty) return;
    const segment = acc.segment();
    const parts = this.partsOf(batch, segment);
    await this.deps.metrics.putParts(parts);
    for (const deviceId of acc.deviceIds()) presence.markSeen(deviceId, batch.window.startMs);
    await this.savePresence(batch.shardId, presence);
    acc.drain();
    summary.flushes += 1;
    summary.partsWritten += parts.length;
  }

  private async finishWindow(
    batch: WindowBatch,
    acc: WindowAccumulator,
    presence: PresenceTracker,
    stuck: StuckTracker,
    deviceInfo: Map<string, ScopedDevice & { site?: string }>,
    summary: BatchSummary,
  ): Promise<void> {
    const { shardId, window } = batch;
    const devices = acc.deviceIds();
    if (!acc.isEmpty) {
      const parts = this.partsOf(batch, acc.segment());
      await this.deps.metrics.putParts(parts);
      summary.partsWritten += parts.length;
    }
    for (const deviceId of devices) {
      const info = deviceInfo.get(deviceId);
      presence.markSeen(
        deviceId,
        window.startMs,
        info ? { manufacturer: info.manufacturer, model: info.model, site: info.site } : {},
      );
    }
    if (!batch.isWindowTerminatedEarly) await this.detectSilence(batch, presence, summary);
    const report = await this.deps.detectors.checkpoint(shardId);
    summary.checkpointsWritten = report.written;
    summary.checkpointMs = report.ms;
    if (presence.dirty) await this.savePresence(shardId, presence);
    if (stuck.dirty) await this.deps.checkpoints.put(stuckKeyOf(shardId), stuck.toBytes());
  }

  private async detectSilence(
    batch: WindowBatch,
    presence: PresenceTracker,
    summary: BatchSummary,
  ): Promise<void> {
    const { options } = this.deps;
    const defaultWindows = options.silenceWindows ?? 3;
    const windowMs = options.windowMs;
    const limits = new Map<string, number>();
    for (const [deviceId, entry] of presence.entries()) {
      // Only devices quiet for at least a window can be due; only they need a thresholds lookup.
      if (entry.silenced || batch.window.startMs - entry.lastSeenMs < windowMs) continue;
      let limit = defaultWindows;
      if (entry.manufacturer && entry.model) {
        const t = await this.deps.thresholds.resolve({
          deviceId,
          manufacturer: entry.manufacturer,
          model: entry.model,
        });
        if (t.silenceWindows) limit = t.silenceWindows.value;
      }
      limits.set(deviceId, limit);
    }
    const due = presence.dueForSilence(
      batch.window.startMs,
      windowMs,
      (id) => limits.get(id) ?? defaultWindows,
    );
    for (const silent of due) {
      const lastSeenIso = new Date(silent.entry.lastSeenMs).toISOString();
      await this.start(
        {
          // Keyed by the last window the device reported in: one escalation per quiet spell.
          alertId: executionName(silent.deviceId, "silence", silent.entry.lastSeenMs),
          kind: "silence",
          rule: "silence",
          deviceId: silent.deviceId,
          ...(silent.entry.site !== undefined ? { site: silent.entry.site } : {}),
          ...(silent.entry.manufacturer !== undefined ? { manufacturer: silent.entry.manufacturer } : {}),
          ...(silent.entry.model !== undefined ? { model: silent.entry.model } : {}),
          ts: new Date(batch.window.startMs).toISOString(),
          windowStart: lastSeenIso,
          metrics: {},
          attribution: [],
          message: `Device ${silent.deviceId} has been silent for ${silent.quietWindows} windows (last reported in the window starting ${lastSeenIso})`,
        },
        summary,
      );
      presence.markSilenced(silent.deviceId);
      summary.silenced += 1;
    }
    presence.prune(batch.window.startMs, (options.forgetAfterWindows ?? 10_080) * windowMs);
  }

  private async presenceOf(shardId: string): Promise<PresenceTracker> {
    let tracker = this.presence.get(shardId);
    if (!tracker) {
      tracker = PresenceTracker.fromBytes(await this.deps.checkpoints.get(presenceKeyOf(shardId)));
      this.presence.set(shardId, tracker);
    }
    return tracker;
  }

  private async stuckOf(shardId: string): Promise<StuckTracker> {
    let tracker = this.stuck.get(shardId);
    if (!tracker) {
      const restored = StuckTracker.fromBytes(
        await this.deps.checkpoints.get(stuckKeyOf(shardId)),
        this.deps.options.stuck,
      );
      if (restored.error !== undefined) {
        this.observer.warn("stuck-sensor state unreadable, starting afresh", {
          error: (restored.error as Error).name,
          shardId,
        });
      }
      tracker = restored.tracker;
      this.stuck.set(shardId, tracker);
    }
    return tracker;
  }

  private async savePresence(shardId: string, presence: PresenceTracker): Promise<void> {
    await this.deps.checkpoints.put(presenceKeyOf(shardId), presence.toBytes());
  }

  private emit(summary: BatchSummary): void {
    const o = this.observer;
    o.metric("RecordsReceived", summary.records, "Count");
    o.metric("RecordsScored", summary.scored, "Count");
    if (summary.rejected) o.metric("RecordsSkippedInvalid", summary.rejected, "Count");
    if (summary.alertsRaised) o.metric("AlertsRaised", summary.alertsRaised, "Count");
    if (summary.anomalous) o.metric("AnomalousRecords", summary.anomalous, "Count");
    if (summary.escalationsStarted) o.metric("EscalationsStarted", summary.escalationsStarted, "Count");
    if (summary.flushes) o.metric("PartialFlushes", summary.flushes, "Count");
    if (summary.partsWritten) o.metric("AggregatePartsWritten", summary.partsWritten, "Count");
    if (summary.checkpointsWritten) {
      o.metric("CheckpointsWritten", summary.checkpointsWritten, "Count");
      o.metric("CheckpointTime", summary.checkpointMs, "Milliseconds");
    }
    if (summary.silenced) o.metric("SilenceAlerts", summary.silenced, "Count");
    if (summary.stuck) o.metric("StuckAlerts", summary.stuck, "Count");
    o.metric("WindowStateSize", summary.stateBytes, "Bytes");
  }
}

function describeViolation(deviceId: string, v: BoundViolation): string {
  return `${v.metric} of ${deviceId} is ${v.value}, ${v.side === "high" ? "above the maximum" : "below the minimum"} ${v.limit} (${v.scope})`;
}
