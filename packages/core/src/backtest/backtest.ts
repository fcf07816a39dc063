import type { DetectorFactory } from "../scoring/detector-pool.ts";
import type { ScoredRecord } from "../scoring/scored-record.ts";
import type { WindowScorerOptions } from "../scoring/window-scorer.ts";
import type { Reading } from "../telemetry/reading.ts";
import { resolveThresholds, type EffectiveThresholds } from "../thresholds/resolve.ts";
import { scopeKeysOf, type ScopedDevice, type ThresholdRule } from "../thresholds/threshold-rule.ts";
import type { CandidateRule } from "./backtest-request.ts";
import { DetectorTape } from "./replay-detectors.ts";
import { replayReadings } from "./replay.ts";
import { summarize, type RuleSetReport } from "./report.ts";

export interface BacktestInput {
  device: ScopedDevice;
  /** Readings of the device from the lake: the range, plus the warm-up before it (any order, duplicates allowed). */
  readings: Iterable<Reading>;
  /** The stored rules of the device's scopes (current settings). */
  rules: readonly ThresholdRule[];
  /** Candidate rule for the device's own scope: replaces its stored device rule. */
  candidate: CandidateRule;
  fromMs: number;
  toMs: number;
}

export interface BacktestOptions extends WindowScorerOptions {
  /** The scoring Lambda's detector factory (same forest and grading). */
  detectors: DetectorFactory;
  /** Incident quiet period for folding (see `summarize`). */
  quietMs?: number;
  /** Stops the backtest with `ReplayAbortedError` (a time budget: `AbortSignal.timeout(ms)`). */
  signal?: AbortSignal;
}

export interface BacktestReport {
  deviceId: string;
  from: string;
  to: string;
  /** Readings of the device with event time in the range (exact duplicates counted once). */
  readings: number;
  /** Readings before the range that warmed the detector, stuck and presence state (ADR 0903). */
  warmUpReadings: number;
  duplicates: number;
  current: RuleSetReport;
  candidate: RuleSetReport;
}

/** The effective thresholds with `candidate` as the device's own rule (what saving it would put in force). */
export function candidateThresholds(
  device: ScopedDevice,
  rules: readonly ThresholdRule[],
  candidate: CandidateRule,
): EffectiveThresholds {
  const deviceScope = scopeKeysOf(device)[0];
  return resolveThresholds(device, [
    ...rules.filter((r) => r.scope !== deviceScope),
    { ...candidate, scope: deviceScope, bounds: candidate.bounds ?? {} },
  ]);
}

/**
 * "What would this rule have done?": replays the device's readings through the live scoring path twice, once with
 * the current thresholds and once with the candidate, and reports what each would have raised in the range. The
 * detector runs once: the second pass plays back the first pass's detector results (see `DetectorTape`).
 */
export async function runBacktest(input: BacktestInput, options: BacktestOptions): Promise<BacktestReport> {
  const { device, fromMs, toMs } = input;
  const own = [...input.readings].filter((r) => r.deviceId === device.deviceId && Date.parse(r.ts) < toMs);
  const current = resolveThresholds(device, input.rules);
  const candidate = candidateThresholds(device, input.rules, input.candidate);
  const tape = new DetectorTape();
  const { quietMs, detectors, ...scorerOptions } = options;
  // Windows run to the device's last reading in the range, not to `toMs` (ADR 0902): the live scorer closes only
  // windows that records arrive in, and the lake cannot tell an outage at the end of a range from readings not yet
  // delivered. Quiet spells between readings reach the silence rule as they do live.
  // Window aggregates are not needed; of the scored records only those some rule found anomalous (`summarize`).
  const pass = () => {
    const involved: Pick<ScoredRecord, "ts" | "rules">[] = [];
    let inRange = 0;
    const base = {
      ...scorerOptions,
      onParts: () => {},
      onScored: (records: readonly ScoredRecord[]) => {
        for (const r of records) {
          if (r.rules.length > 0) involved.push({ ts: r.ts, rules: r.rules });
          if (Date.parse(r.ts) >= fromMs) inRange += 1;
        }
      },
    };
    return { base, involved, inRange: () => inRange };
  };
  const a = pass();
  const first = await replayReadings(own, {
    ...a.base,
    detectors: tape.recording(detectors),
    thresholds: { resolve: async () => current },
  });
  const b = pass();
  const second = await replayReadings(own, {
    ...b.base,
    detectors: tape.playback(),
    thresholds: { resolve: async () => candidate },
  });
  const inRange = a.inRange();
  const report = { fromMs, toMs, quietMs };
  return {
    deviceId: device.deviceId,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    readings: inRange,
    warmUpReadings: first.readings - inRange,
    duplicates: first.duplicates,
    current: summarize(first.alerts, a.involved, report),
    candidate: summarize(second.alerts, b.involved, report),
  };
}
