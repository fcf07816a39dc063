import type { Alert } from "../alerts/alert.ts";
import { commitRecord, evaluateRecord, type SeriesRuleState } from "../alerts/record-rules.ts";
import { recordAlert } from "../alerts/build-alert.ts";
import { SeriesBaseline } from "../alerts/series-baseline.ts";
import { ValidationError } from "../shared/errors.ts";
import type { Envelope } from "../telemetry/envelope.ts";
import { parseEnvelopeBase64 } from "../telemetry/envelope-codec.ts";
import type { Reading } from "../telemetry/reading.ts";
import { ReadingTail, RecentReadings } from "../telemetry/recent-readings.ts";
import type { EffectiveThresholds } from "../thresholds/resolve.ts";
import type { PresenceTracker } from "../window/presence.ts";
import type { AggregatePart } from "../window/stored-part.ts";
import {
  DEFAULT_STATE_BUDGET_BYTES,
  WindowAccumulator,
  stateSizeBytes,
  type WindowSegment,
} from "../window/window-accumulator.ts";
import type { ScoringDetector } from "./detector-pool.ts";
import { MetricSets } from "./metric-sets.ts";
import { detectionOfResult } from "./record-detection.ts";
import { archivedDetectionOf, type ScoredRecord } from "./scored-record.ts";
import { markRaised, resolveOnReturn, silenceAtWindowEnd } from "./silence-watch.ts";
import { isWindowTick } from "./window-tick.ts";
import { ShardStates } from "./shard-state.ts";
import { DEFAULT_STUCK_READINGS, type StuckTracker } from "./stuck-tracker.ts";

export type {
  StreamRecord,
  WindowBatch,
  WindowBatchResult,
  BatchSummary,
  RecordPreparer,
  ThresholdResolver,
  ScoringObserver,
  WindowScorerOptions,
  WindowScorerDeps,
} from "./window-scorer-api.ts";
import { emitBatchMetrics } from "./window-scorer-api.ts";
import type {
  StreamRecord,
  WindowBatch,
  WindowBatchResult,
  BatchSummary,
  ScoringObserver,
  WindowScorerDeps,
} from "./window-scorer-api.ts";

/** A record between the phases of `processBatch`: prepared (and, after phase 2, scored) or failed. */
interface PreparedRecord {
  record: StreamRecord;
  reading: Reading;
  modelKey: string;
  /** Sorted; shared by the records of a model key with the same metrics (never mutated). */
  metricNames: readonly string[];
  values: number[];
  detectorKey: string;
  thresholds: EffectiveThresholds;
  result?: ReturnType<ScoringDetector["process"]>;
}
/** What phase 3 needs per batch, computed once per batch instead of once per record. */
interface BatchContext {
  batch: WindowBatch;
  acc: WindowAccumulator;
  presence: PresenceTracker;
  summary: BatchSummary;
  rules: SeriesRuleState;
  /** `window.startMs` as ISO text (every scored record of the batch carries it). */
  windowStart: string;
}
/** A slot whose record phase 3 has finished with (only its archived record is still needed). */
const DONE: Slot = { tick: true };
/** `tick`: a window tick (`window-tick.ts`), skipped: not a reading, not rejected, not archived. */
type Slot = { prepared: PreparedRecord } | { error: unknown } | { tick: true };

const noopObserver: ScoringObserver = { metric: () => {}, warn: () => {} };

/**
 * The window state a batch returned, with the accumulator and reading tail it encodes: when the next batch of the
 * shard brings back a state equal to it (key by key), these are taken instead of parsing it again (issue 13). The
 * accumulator then holds exactly what `WindowAccumulator.fromState` would give (see `toState`); the tail only when
 * `decode(encode())` gives it back (`encodesExactly`).
 */
interface KeptState {
  state: Readonly<Record<string, string>>;
  acc: WindowAccumulator;
  tail: ReadingTail | undefined;
}

/** Whether two window states hold the same keys with the same text. */
function sameState(kept: Readonly<Record<string, string>>, state: Record<string, unknown>): boolean {
  let keys = 0;
  for (const key in state) {
    if (!Object.hasOwn(state, key)) continue;
    if (!Object.hasOwn(kept, key) || state[key] !== kept[key]) return false;
    keys += 1;
  }
  return keys === Object.keys(kept).length;
}

export { presenceKeyOf } from "./shard-state.ts";

/** Checkpoint key of a shard's recent reading ids at window end (ADR 0203). */
export const readingTailKeyOf = (shardId: string): string => `recent-readings/${shardId}`;

/**
 * The scoring path of one Lambda invocation (pure orchestration of batches, windows and state over core's ports),
 * in three phases per batch: (1) in sequence order, decode → prepare (vault off) → thresholds lookup; (2) RCF score
 * with attribution, grouped by detector key so each forest stays in cache for all its records (each device's
 * records still in order); (3) in sequence order, the alert rules of `alerts/` → alerts started at once → window
 * aggregates, stopping at the lowest failed record (ADR 0603). Partial flushes near the state cap; on the final
 * invoke: aggregates, model checkpoints, the silence rule. Any event-time order is scored (ADR 0600): windows are
 * by arrival, like the event source mapping's tumbling windows. Window ticks (`window-tick.ts`) are skipped: they
 * only make an idle shard's windows close (ADR 0606).
 */
export class WindowScorer {
  private readonly observer: ScoringObserver;
  private readonly shards: ShardStates;
  private readonly baseline = new SeriesBaseline();
  /** Readings already scored, by `readingId`: a client's resend is skipped, never counted or alerted twice. */
  private readonly recentReadings = new RecentReadings();
  /** Per shard, the tail carried into the next window (also saved at window end; loaded at a cold start). */
  private readonly windowEndTails = new Map<string, ReadingTail>();
  /** The last record's arrival as ISO text (records arriving in the same millisecond share it). */
  private arrivedAtMs = Number.NaN;
  private arrivedAt = "";
  /** Per shard, the state the last batch returned and what it encodes (taken back at most once). */
  private readonly keptStates = new Map<string, KeptState>();
  private readonly started = new Set<string>();
  private readonly metricSets = new MetricSets();
  private readonly budget: number;
  /** `options.snapshotState`: per-shard state is written to `checkpoints` (off in a replay). */
  private readonly snapshots: boolean;

  constructor(private readonly deps: WindowScorerDeps) {
    this.observer = deps.observer ?? noopObserver;
    this.snapshots = deps.options.snapshotState ?? true;
    this.budget = deps.options.stateBudgetBytes ?? DEFAULT_STATE_BUDGET_BYTES;
    this.shards = new ShardStates(deps.checkpoints, deps.options.stuck, (m, f) => this.observer.warn(m, f));
  }

  async processBatch(batch: WindowBatch): Promise<WindowBatchResult> {
    const { shardId, window } = batch;
    const kept = this.takeKept(shardId, batch.state, window.startMs);
    const acc = kept?.acc ?? WindowAccumulator.fromState(batch.state, window.startMs, this.budget);
    const presence = await this.shards.presenceOf(shardId);
    const stuck = await this.shards.stuckOf(shardId);
    const tail = await this.readingTailOf(shardId, batch.state, kept?.tail);
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
      returned: 0,
      stuck: 0,
      stateBytes: 0,
    };
    const scored: ScoredRecord[] = [];
    let failedSequenceNumber: string | undefined;

    // Phase 1 (sequence order): decode, prepare, thresholds lookup. Stops at the first retryable failure.
    const slots: Slot[] = [];
    let limit = batch.records.length;
    for (let i = 0; i < batch.records.length; i++) {
      try {
        const envelope = batch.records[i].envelope ?? parseEnvelopeBase64(batch.records[i].data);
        slots.push(
          isWindowTick(envelope)
            ? { tick: true }
            : { prepared: await this.prepareRecord(batch.records[i], envelope) },
        );
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
    const context: BatchContext = {
      batch,
      acc,
      presence,
      summary,
      rules: this.rulesOf(stuck),
      windowStart: new Date(window.startMs).toISOString(),
    };
    for (let i = 0; i < slots.length; i++) {
      const record = batch.records[i];
      const slot = slots[i];
      if ("tick" in slot) continue;
      try {
        if ("error" in slot) throw slot.error;
        scored.push(await this.scoreRecord(slot.prepared, context));
        tail.push(slot.prepared.reading.readingId, record.sequenceNumber);
        // Done with it: its detector result and prepared state can die young (a batch holds thousands of records).
        slots[i] = DONE;
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
      await this.finishWindow(batch, acc, presence, stuck, summary);
      if (this.snapshots)
        await this.deps.checkpoints.put(readingTailKeyOf(shardId), Buffer.from(tail.encode(), "utf8"));
      this.windowEndTails.set(shardId, tail);
      state = {};
    } else {
      state = acc.toState();
      // Only beside aggregates: a state holding nothing else would not be a valid window state.
      if (tail.size > 0 && Object.keys(state).length > 0) state.r = tail.encode();
      if (state.v !== undefined)
        this.keptStates.set(shardId, {
          state: { ...state },
          acc,
          tail: state.r !== undefined && tail.encodesExactly ? tail : undefined,
        });
    }
    summary.stateBytes = stateSizeBytes(state);
    emitBatchMetrics(this.observer, summary);
    return { state, failedSequenceNumber, summary };
  }

  /**
   * What the shard's previous batch returned, if `state` is that state again (the next batch, or a retry after a
   * returned partial failure); removed either way, so a batch that throws after taking it is retried from its state.
   */
  private takeKept(
    shardId: string,
    state: Record<string, unknown> | undefined | null,
    windowStartMs: number,
  ): KeptState | undefined {
    const kept = this.keptStates.get(shardId);
    if (kept === undefined) return undefined;
    this.keptStates.delete(shardId);
    if (!state || kept.acc.windowStartMs !== windowStartMs || !sameState(kept.state, state)) return undefined;
    return kept;
  }

  /**
   * The shard's recent (readingId, sequence) pairs: from the window state within a window (it matches the records
   * the state counts, retries included), else from the previous window's end (memory, or the checkpoint after a
   * cold start). Marked as seen, so a resend straddling a restart is still recognised (ADR 0203).
   */
  private async readingTailOf(
    shardId: string,
    state: Record<string, unknown> | undefined,
    kept: ReadingTail | undefined,
  ): Promise<ReadingTail> {
    let tail: ReadingTail;
    if (typeof state?.r === "string") tail = kept ?? ReadingTail.decode(state.r);
    else {
      let previous = this.windowEndTails.get(shardId);
      if (previous === undefined) {
        const bytes = await this.deps.checkpoints.get(readingTailKeyOf(shardId));
        previous = ReadingTail.decode(bytes ? Buffer.from(bytes).toString("utf8") : "");
        this.windowEndTails.set(shardId, previous);
      }
      tail = ReadingTail.decode(previous.encode());
    }
    tail.markIn(this.recentReadings);
    return tail;
  }

  /** Phase 1 of a record: everything before the detector that can fail (decode, prepare, thresholds lookup). */
  private async prepareRecord(record: StreamRecord, envelope: Envelope): Promise<PreparedRecord> {
    const { reading, modelKey } = await this.deps.preparer.prepare(envelope, { vault: false });
    // A resend (MQTT DUP after a reconnect) carries the same readingId under another sequence number (ADR 0203).
    if (this.recentReadings.isDuplicate(reading.readingId, record.sequenceNumber))
      throw new ValidationError("a resend of a reading already scored", { code: "DUPLICATE_READING" });
    const { names: metricNames, detectorKey } = this.metricSets.of(modelKey, Object.keys(reading.metrics));
    if (metricNames.length === 0) throw new ValidationError("reading has no metrics", { code: "NO_METRICS" });
    const values: number[] = [];
    for (let i = 0; i < metricNames.length; i++) values.push(reading.metrics[metricNames[i]]);
    const device = { deviceId: reading.deviceId, manufacturer: reading.manufacturer, model: reading.model };
    const thresholds = await this.deps.thresholds.resolve(device);
    return { record, reading, modelKey, metricNames, values, detectorKey, thresholds };
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
  private async scoreRecord(prepared: PreparedRecord, context: BatchContext): Promise<ScoredRecord> {
    const { batch, acc, presence, summary, rules } = context;
    const { shardId, window } = batch;
    const { record, reading, modelKey, metricNames, values, detectorKey, thresholds } = prepared;
    const result = prepared.result;
    if (!result) throw new Error("record reached phase 3 without a detector result");

    // Everything that can fail runs before the record touches any state, so a failed record leaves the state exactly
    // as it was and its retry counts it once. Any event-time order is scored; windows are by arrival (ADR 0600).
    const eventMs = Date.parse(reading.ts);
    const timeMs = Number.isFinite(eventMs) ? eventMs : record.arrivalMs;
    const { detection, grade } = detectionOfResult(result, metricNames, values);
    const { attribution } = detection;
    const input = { deviceId: reading.deviceId, timeMs, metricNames, values, detection, thresholds };
    const verdict = evaluateRecord(input, rules);
    for (const firing of verdict.firings) {
      if (!firing.raise) continue;
      const alert = recordAlert({
        firing,
        reading,
        modelKey,
        windowStartMs: window.startMs,
        score: result.score,
        grade,
        attribution,
      });
      await this.start(alert, summary);
      if (firing.rule.startsWith("stuck:")) summary.stuck += 1;
    }
    // (Only a device in a quiet spell can resolve one: no promise to await for the others.)
    if (
      presence.returning(reading.deviceId) !== undefined &&
      (await resolveOnReturn(this.deps.incidents, presence, reading))
    )
      summary.returned += 1;

    if (acc.wouldExceed(reading.deviceId, metricNames)) await this.flush(batch, acc, presence, summary);
    acc.beginRecord(record.sequenceNumber);
    acc.addRecord(reading.deviceId, metricNames, values, timeMs, result.score, verdict.anomalousMetrics);
    commitRecord(input, verdict, rules);
    presence.observe(reading.deviceId, record.arrivalMs, window.startMs, {
      manufacturer: reading.manufacturer,
      model: reading.model,
      site: reading.site,
    });
    summary.scored += 1;
    if (verdict.anomalous) summary.anomalous += 1;
    if (record.arrivalMs !== this.arrivedAtMs) {
      this.arrivedAt = new Date(record.arrivalMs).toISOString();
      this.arrivedAtMs = record.arrivalMs;
    }
    const arrivedAt = this.arrivedAt;
    const tags = reading.tags ?? {};
    const rulesFired = verdict.firings.map((f) => f.rule);
    const latencyMs = Math.max(0, this.deps.clock.now() - record.arrivalMs);
    // The detector's own verdict, so a backtest can reuse it under another rule set (ADR 0903).
    const archived = archivedDetectionOf(input.detection);
    // One whole literal (no spread, no field added later), keys in the archived order. `site` is undefined when the
    // reading has none: JSON (the archive) leaves it out, as it did the absent key. `anomaly`: under any rule, also
    // inside an episode that already alerted (never hidden; issue 8).
    return {
      deviceId: reading.deviceId,
      ts: reading.ts,
      receivedAt: reading.receivedAt,
      arrivedAt,
      windowStart: context.windowStart,
      shardId,
      sequenceNumber: record.sequenceNumber,
      modelKey,
      detectorKey,
      manufacturer: reading.manufacturer,
      model: reading.model,
      site: reading.site,
      metrics: reading.metrics,
      tags,
      score: result.score,
      grade,
      anomaly: verdict.anomalous,
      attribution,
      rules: rulesFired,
      latencyMs,
      detection: archived,
    };
  }

  private rulesOf(stuck: StuckTracker): SeriesRuleState {
    return {
      stuck,
      baseline: this.baseline,
      defaultStuckReadings: this.deps.options.stuckReadings ?? DEFAULT_STUCK_READINGS,
    };
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
    if (this.snapshots) await this.shards.savePresence(batch.shardId, presence);
    acc.drain();
    summary.flushes += 1;
    summary.partsWritten += parts.length;
  }

  private async finishWindow(
    batch: WindowBatch,
    acc: WindowAccumulator,
    presence: PresenceTracker,
    stuck: StuckTracker,
    summary: BatchSummary,
  ): Promise<void> {
    const { shardId, window } = batch;
    const devices = acc.deviceIds();
    // The window's aggregates and the models' checkpoints are independent writes, both idempotent: they overlap
    // (issue 13: one after the other they held the shard ~1 s per window end with 250 devices). A failure of either
    // fails the final invoke, whose retry writes the parts again and any checkpoint still dirty — but only once both
    // have settled: nothing of a failed invoke may still be writing when it returns (a Lambda is frozen then).
    const parts = acc.isEmpty ? [] : this.partsOf(batch, acc.segment());
    const written = parts.length > 0 ? this.deps.metrics.putParts(parts) : Promise.resolve();
    const [wrote, checkpointed] = await Promise.allSettled([
      written,
      this.deps.detectors.checkpoint(shardId),
    ]);
    if (wrote.status === "rejected") throw wrote.reason;
    if (checkpointed.status === "rejected") throw checkpointed.reason;
    const report = checkpointed.value;
    summary.partsWritten += parts.length;
    for (const deviceId of devices) presence.markSeen(deviceId, window.startMs);
    if (!batch.isWindowTerminatedEarly) await this.detectSilence(batch, presence, summary);
    summary.checkpointsWritten = report.written;
    summary.checkpointMs = report.ms;
    if (this.snapshots && presence.dirty) await this.shards.savePresence(shardId, presence);
    if (this.snapshots && stuck.dirty) await this.shards.saveStuck(shardId, stuck);
  }

  /** The silence rule at a window's end (`silence-watch.ts`, ADR 0606). */
  private async detectSilence(
    batch: WindowBatch,
    presence: PresenceTracker,
    summary: BatchSummary,
  ): Promise<void> {
    const { options } = this.deps;
    const raised = await silenceAtWindowEnd({
      presence,
      shardId: batch.shardId,
      window: batch.window,
      windowMs: options.windowMs,
      thresholds: this.deps.thresholds,
      defaultWindows: options.silenceWindows ?? 3,
    });
    for (const { alert, decision } of raised) {
      await this.start(alert, summary);
      markRaised(presence, decision);
      summary.silenced += 1;
    }
    presence.prune(batch.window.startMs, (options.forgetAfterWindows ?? 10_080) * options.windowMs);
  }
}
