import type { Alert } from "../alerts/alert.ts";
import { recordAlert } from "../alerts/build-alert.ts";
import {
  commitRecord,
  evaluateRecord,
  type PreparedRecordInput,
  type SeriesRuleState,
} from "../alerts/record-rules.ts";
import { SeriesBaseline } from "../alerts/series-baseline.ts";
import type { RecordDetection } from "../scoring/record-detection.ts";
import { markRaised, silenceAtWindowEnd } from "../scoring/silence-watch.ts";
import { DEFAULT_STUCK_READINGS, StuckTracker } from "../scoring/stuck-tracker.ts";
import type { WindowScorerOptions } from "../scoring/window-scorer-api.ts";
import type { Reading } from "../telemetry/reading.ts";
import { stuckReadingsFor, type EffectiveThresholds } from "../thresholds/resolve.ts";
import { PresenceTracker } from "../window/presence.ts";
import { REPLAY_SHARD, ReplayAbortedError } from "./replay.ts";

/** Longest stretch a pass runs without giving the event loop a turn, ms. */
const YIELD_EVERY_MS = 50;

/** A reading prepared once for every rule set: its metrics in name order and its model key. */
export interface PassRecord {
  reading: Reading;
  /** Event time, ms. */
  timeMs: number;
  metricNames: string[];
  values: number[];
  modelKey: string;
}

/** What one rule set raised: every alert once (by id, as escalations start once), and the records some rule fired on. */
export interface RuleSetOutcome {
  alerts: Alert[];
  involved: { ts: string; rules: string[] }[];
}

export interface RulePassOptions extends Pick<
  WindowScorerOptions,
  "windowMs" | "silenceWindows" | "stuckReadings" | "stuck" | "forgetAfterWindows"
> {
  /** Stops the pass between windows with `ReplayAbortedError` (a time budget). */
  signal?: AbortSignal;
}

interface RuleSet {
  thresholds: EffectiveThresholds;
  rules: SeriesRuleState;
  presence: PresenceTracker;
  /** This set commits its own stuck runs (false: it shares the first set's tracker, committed once). */
  ownStuck: boolean;
  /** This set runs the silence rule on its own presence (false: it shares the first set's). */
  ownPresence: boolean;
  started: Set<string>;
  outcome: RuleSetOutcome;
}

/**
 * The backtest's rule path: every rule set over the same records in ONE pass, in event-time order, one tumbling
 * window of event time after another (quiet ones included, so gaps reach the silence rule), with the detector's
 * results given per record (archived live verdicts or a forest run once). Per record and rule set it runs what the
 * scoring path's `WindowScorer` runs in its phase 3 — `evaluateRecord`, `recordAlert` for each raising firing,
 * `commitRecord` — and at each window's end what its `finishWindow` runs (`markSeen`, `silenceAtWindowEnd`,
 * `markRaised`, `prune`); the rules themselves are only those functions of `alerts/` and `scoring/` (ADR 0903).
 *
 * State that does not depend on what differs between the rule sets is kept once: the series baseline (values only),
 * the stuck runs when every metric's `stuckReadings` is the same under both, and presence (the silence rule's
 * state) when their `silenceWindows` are. A set with other settings gets its own.
 */
export async function runRulePass(
  records: readonly PassRecord[],
  detections: (index: number) => RecordDetection,
  thresholdSets: readonly EffectiveThresholds[],
  options: RulePassOptions,
): Promise<RuleSetOutcome[]> {
  const { windowMs } = options;
  const defaultStuck = options.stuckReadings ?? DEFAULT_STUCK_READINGS;
  const defaultSilence = options.silenceWindows ?? 3;
  const baseline = new SeriesBaseline();
  const metrics = new Set<string>();
  for (const r of records) for (const m of r.metricNames) metrics.add(m);
  const sets: RuleSet[] = [];
  for (const thresholds of thresholdSets) {
    const first = sets[0];
    const sameStuck =
      first !== undefined &&
      [...metrics].every(
        (m) =>
          stuckReadingsFor(first.thresholds, m, defaultStuck).value ===
          stuckReadingsFor(thresholds, m, defaultStuck).value,
      );
    const sameSilence =
      first !== undefined &&
      (first.thresholds.silenceWindows?.value ?? defaultSilence) ===
        (thresholds.silenceWindows?.value ?? defaultSilence);
    sets.push({
      thresholds,
      rules: {
        stuck: sameStuck ? first.rules.stuck : new StuckTracker(options.stuck),
        baseline,
        defaultStuckReadings: defaultStuck,
      },
      presence: sameSilence ? first.presence : new PresenceTracker(),
      ownStuck: !sameStuck,
      ownPresence: !sameSilence,
      started: new Set(),
      outcome: { alerts: [], involved: [] },
    });
  }
  const start = (set: RuleSet, alert: Alert) => {
    if (set.started.has(alert.alertId)) return;
    set.started.add(alert.alertId);
    set.outcome.alerts.push(alert);
  };
  if (records.length === 0) return sets.map((s) => s.outcome);

  const windowOf = (ms: number) => Math.floor(ms / windowMs) * windowMs;
  const endMs = records[records.length - 1].timeMs + 1;
  const forgetMs = (options.forgetAfterWindows ?? 10_080) * windowMs;
  let i = 0;
  let lastYield = performance.now();
  for (let windowStart = windowOf(records[0].timeMs); windowStart < endMs; windowStart += windowMs) {
    if (options.signal?.aborted) {
      throw new ReplayAbortedError(`backtest stopped after ${i} of ${records.length} readings`, {
        cause: options.signal.reason,
      });
    }
    const windowEnd = windowStart + windowMs;
    const seen = new Set<string>();
    for (; i < records.length && records[i].timeMs < windowEnd; i++) {
      const { reading, timeMs, metricNames, values, modelKey } = records[i];
      const { detection, score, grade } = detections(i);
      const input: PreparedRecordInput = {
        deviceId: reading.deviceId,
        timeMs,
        metricNames,
        values,
        detection,
        thresholds: sets[0].thresholds,
      };
      let firstVerdict: ReturnType<typeof evaluateRecord> | undefined;
      for (const set of sets) {
        input.thresholds = set.thresholds;
        const verdict = evaluateRecord(input, set.rules);
        firstVerdict ??= verdict;
        if (verdict.firings.length > 0) {
          set.outcome.involved.push({ ts: reading.ts, rules: verdict.firings.map((f) => f.rule) });
          for (const firing of verdict.firings) {
            if (!firing.raise) continue;
            start(
              set,
              recordAlert({
                firing,
                reading,
                modelKey,
                windowStartMs: windowStart,
                score,
                grade,
                attribution: detection.attribution,
              }),
            );
          }
        }
        // The first set commits the shared state (stuck runs, baseline); another commits only its own stuck runs.
        if (set !== sets[0] && set.ownStuck) set.rules.stuck.commit(verdict.stuckVerdicts);
      }
      if (firstVerdict) commitRecord(input, firstVerdict, sets[0].rules);
      const info = { manufacturer: reading.manufacturer, model: reading.model, site: reading.site };
      for (const set of sets) {
        if (set === sets[0] || set.ownPresence)
          set.presence.observe(reading.deviceId, timeMs, windowStart, info);
      }
      seen.add(reading.deviceId);
    }
    // The window's end (the final invoke): the silence rule over each distinct presence.
    for (const set of sets) {
      if (set !== sets[0] && !set.ownPresence) continue;
      for (const deviceId of seen) set.presence.markSeen(deviceId, windowStart);
      const raised = await silenceAtWindowEnd({
        presence: set.presence,
        shardId: REPLAY_SHARD,
        window: { startMs: windowStart, endMs: windowEnd },
        windowMs,
        thresholds: { resolve: async () => set.thresholds },
        defaultWindows: defaultSilence,
      });
      for (const { alert, decision } of raised) {
        for (const other of sets) if (other.presence === set.presence) start(other, alert);
        markRaised(set.presence, decision);
      }
      set.presence.prune(windowStart, forgetMs);
    }
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  return sets.map((s) => s.outcome);
}
