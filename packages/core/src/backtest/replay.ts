import type { Alert } from "../alerts/alert.ts";
import type { Clock } from "../ports/clock.ts";
import type { DetectorFactory } from "../scoring/detector-pool.ts";
import type { ScoredRecord } from "../scoring/scored-record.ts";
import {
  WindowScorer,
  type RecordPreparer,
  type StreamRecord,
  type ThresholdResolver,
  type WindowScorerOptions,
} from "../scoring/window-scorer.ts";
import { DriftwatchError, ValidationError } from "../shared/errors.ts";
import { defaultModelKey } from "../telemetry/prepare.ts";
import type { Reading } from "../telemetry/reading.ts";
import type { AggregatePart } from "../window/stored-part.ts";
import { MemoryCheckpointStore, replayPool } from "./replay-detectors.ts";

/** Longest stretch a replay runs without giving the event loop a turn, ms. */
const YIELD_EVERY_MS = 50;

/** The one shard a replay scores on (forests are per shard and model key, ADR 0602). */
export const REPLAY_SHARD = "shardId-replay";

export interface ReplayOptions extends WindowScorerOptions {
  detectors: DetectorFactory;
  thresholds: ThresholdResolver;
  /**
   * Run quiet windows after the last reading up to (excluding) this time, so silence at the end of a range is seen.
   * Default: windows end with the last reading, as live (the scorer closes only windows that records arrive in).
   */
  untilMs?: number;
  /** Scored records, as they are produced (default: kept in the result). */
  onScored?: (records: readonly ScoredRecord[]) => void | Promise<void>;
  /** Window aggregates, as they are produced (default: kept in the result). */
  onParts?: (parts: readonly AggregatePart[]) => void | Promise<void>;
  /** Called after each window with how many readings have been scored. */
  onProgress?: (scored: number, total: number) => void;
  /** Stops the replay between windows with `ReplayAbortedError` (e.g. `AbortSignal.timeout(ms)`: a time budget). */
  signal?: AbortSignal;
}

export interface ReplayResult {
  /** Distinct readings scored (after dropping exact duplicates). */
  readings: number;
  /** Exact duplicates dropped (at-least-once delivery into the lake). */
  duplicates: number;
  /** Every alert the scoring path raised (one per escalation it would have started), in order. */
  alerts: Alert[];
  scored: ScoredRecord[];
  parts: AggregatePart[];
}

/**
 * Orders readings by event time (ties by arrival, then lake order) and drops duplicates, keeping the first arrival:
 * readings with the same `readingId` (a client's resend, ADR 0203: the same topic and payload bytes, whatever their
 * arrival), and, for readings without one, the same device, event time, arrival and values (a redelivered record).
 * A device repeating a timestamp with other values (a clock step) keeps both readings.
 */
export function orderReadings(readings: Iterable<Reading>): {
  ordered: Reading[];
  /** Event time (ms) of each ordered reading. */
  times: number[];
  duplicates: number;
} {
  // Arrival is parsed only where event times tie (NaN until then).
  const keyed: { reading: Reading; ms: number; arrival: number; index: number }[] = [];
  let index = 0;
  for (const reading of readings)
    keyed.push({ reading, ms: Date.parse(reading.ts), arrival: NaN, index: index++ });
  const arrivalOf = (k: (typeof keyed)[number]) =>
    Number.isNaN(k.arrival) ? (k.arrival = Date.parse(k.reading.receivedAt)) : k.arrival;
  keyed.sort((a, b) => a.ms - b.ms || arrivalOf(a) - arrivalOf(b) || a.index - b.index);
  // Duplicates share their event time (a resend carries the same payload, a redelivery is the same record), so only
  // readings of one event time are compared: a key per reading is built only where event times repeat.
  const ordered: Reading[] = [];
  const times: number[] = [];
  let seen: Set<string> | undefined;
  for (let i = 0; i < keyed.length; i++) {
    const { reading, ms } = keyed[i];
    const repeated = (i > 0 && keyed[i - 1].ms === ms) || (i + 1 < keyed.length && keyed[i + 1].ms === ms);
    if (repeated) {
      if (i === 0 || keyed[i - 1].ms !== ms) seen = new Set();
      const key =
        reading.readingId ??
        `${reading.deviceId}\u0000${reading.ts}\u0000${reading.receivedAt}\u0000${JSON.stringify(reading.metrics)}`;
      if (seen!.has(key)) continue;
      seen!.add(key);
    }
    ordered.push(reading);
    times.push(ms);
  }
  return { ordered, times, duplicates: keyed.length - ordered.length };
}

/**
 * Replays readings from the lake through the live scoring path: core's `WindowScorer` itself, with in-memory ports
 * that capture what it would have written and started (window aggregates, scored records, escalations) and touch no
 * live state. Readings go in event-time order, one tumbling window of event time per batch (the final invoke), every
 * window from the first reading to the last (or `untilMs`), quiet ones included, so gaps reach the silence rule. The
 * lake holds readings already prepared by the ingest transform's core code, so the preparer port hands each back as
 * stored (ADR 0902).
 */
export async function replayReadings(
  readings: Iterable<Reading>,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const { ordered, times, duplicates } = orderReadings(readings);
  const windowMs = options.windowMs;
  const result: ReplayResult = { readings: ordered.length, duplicates, alerts: [], scored: [], parts: [] };
  if (ordered.length === 0) return result;

  let nowMs = 0;
  const clock: Clock = { now: () => nowMs };
  const preparer: RecordPreparer = {
    async prepare(envelope) {
      const reading = ordered[Number(envelope.messageId)];
      if (!reading) throw new ValidationError("replay record has no reading", { code: "NO_READING" });
      return { reading, modelKey: defaultModelKey(reading) };
    },
  };
  const seen = new Set<string>();
  const scorer = new WindowScorer({
    preparer,
    detectors: replayPool(options.detectors, clock),
    thresholds: options.thresholds,
    escalation: {
      async start(alert) {
        if (seen.has(alert.alertId)) return { started: false };
        seen.add(alert.alertId);
        result.alerts.push(alert);
        return { started: true };
      },
    },
    metrics: {
      async putParts(parts) {
        if (options.onParts) await options.onParts(parts);
        else result.parts.push(...parts);
      },
      async listParts() {
        return [];
      },
    },
    archive: {
      async putMany(records) {
        if (options.onScored) await options.onScored(records);
        else result.scored.push(...records);
      },
    },
    checkpoints: new MemoryCheckpointStore(),
    clock,
    // The per-shard state lives for this run only: no snapshots at window ends (ADR 0902).
    options: { ...options, snapshotState: false },
  });

  const windowOf = (ms: number) => Math.floor(ms / windowMs) * windowMs;
  const firstMs = times[0];
  const lastMs = times[times.length - 1];
  const endMs = Math.max(lastMs + 1, options.untilMs ?? 0);
  let i = 0;
  let lastYield = performance.now();
  for (let start = windowOf(firstMs); start < endMs; start += windowMs) {
    if (options.signal?.aborted) {
      throw new ReplayAbortedError(`replay stopped after ${i} of ${ordered.length} readings`, {
        cause: options.signal.reason,
      });
    }
    const records: StreamRecord[] = [];
    while (i < ordered.length && times[i] < start + windowMs) {
      records.push(recordOf(ordered[i].deviceId, times[i], i));
      i += 1;
    }
    nowMs = start + windowMs;
    const { failedSequenceNumber } = await scorer.processBatch({
      shardId: REPLAY_SHARD,
      window: { startMs: start, endMs: start + windowMs },
      state: undefined,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
      records,
    });
    if (failedSequenceNumber !== undefined) {
      throw new ReplayFailedError(`replay failed in the window starting ${new Date(start).toISOString()}`);
    }
    options.onProgress?.(i, ordered.length);
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      // A long replay shares its process (local mode's runtime, a test worker): let timers and I/O run.
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  return result;
}

/** The scoring path reported a retryable failure during a replay (nothing retries a replay: it fails whole). */
export class ReplayFailedError extends DriftwatchError {}

/** The replay's `signal` aborted it (its time budget ran out): nothing partial is returned. */
export class ReplayAbortedError extends DriftwatchError {}

/**
 * The stream record of the `index`-th ordered reading: arrival is its event time (windows of event time), and the data
 * is a minimal envelope, passed decoded, whose `messageId` the replay's preparer maps back to the reading.
 */
function recordOf(deviceId: string, eventMs: number, index: number): StreamRecord {
  return {
    sequenceNumber: String(index).padStart(12, "0"),
    partitionKey: deviceId,
    arrivalMs: eventMs,
    data: "",
    envelope: { topic: "replay", receivedAt: eventMs, payload: "", messageId: String(index) },
  };
}
