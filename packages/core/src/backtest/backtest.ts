import { detectorKeyOf, type DetectorFactory, type ScoringDetector } from "../scoring/detector-pool.ts";
import { detectionOfResult, type RecordDetection } from "../scoring/record-detection.ts";
import type { WindowScorerOptions } from "../scoring/window-scorer-api.ts";
import { defaultModelKey } from "../telemetry/prepare.ts";
import type { Reading } from "../telemetry/reading.ts";
import { resolveThresholds, type EffectiveThresholds } from "../thresholds/resolve.ts";
import { scopeKeysOf, type ScopedDevice, type ThresholdRule } from "../thresholds/threshold-rule.ts";
import type { CandidateRule } from "./backtest-request.ts";
import { detectionOfVerdict, NO_VERDICT, VerdictIndex, type ArchivedVerdict } from "./archived-verdicts.ts";
import { orderReadings } from "./replay.ts";
import { runRulePass, type PassRecord } from "./rule-pass.ts";
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
  /**
   * The device's archived live verdicts (scores archive, range and warm-up): used instead of a forest when every
   * reading of the range has one (ADR 0903).
   */
  verdicts?: Iterable<ArchivedVerdict>;
}

/** Which detector results a backtest used (ADR 0903). */
export interface BacktestDetector {
  /** `archived`: the live detector's verdicts from the scores archive; `forest`: a forest warmed before the range. */
  source: "archived" | "forest";
  /** Readings of the range with an archived verdict. */
  archivedVerdicts: number;
  /** Readings of the range without one (any → `forest`). */
  readingsWithoutVerdict: number;
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
  detector: BacktestDetector;
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
 * "What would this rule have done?": runs the device's readings through the scoring path's rules with the current
 * thresholds and with the candidate, in one pass (`runRulePass`), and reports what each would have raised in the
 * range. The detector's results come from the scores archive when every reading of the range has an archived
 * verdict (the live detector's own: the current rule set then raises what live raised), otherwise from a forest
 * warmed on the readings before the range and run once for both rule sets (ADR 0903).
 */
export async function runBacktest(input: BacktestInput, options: BacktestOptions): Promise<BacktestReport> {
  const { device, fromMs, toMs } = input;
  const own: Reading[] = [];
  for (const r of input.readings) if (r.deviceId === device.deviceId && Date.parse(r.ts) < toMs) own.push(r);
  const { ordered, times, duplicates } = orderReadings(own);
  // The scoring path rejects a reading without metrics (it is not scored); so does the backtest.
  const records: PassRecord[] = [];
  for (let i = 0; i < ordered.length; i++) {
    const reading = ordered[i];
    const metricNames = Object.keys(reading.metrics).sort();
    if (metricNames.length === 0) continue;
    records.push({
      reading,
      timeMs: times[i],
      metricNames,
      values: metricNames.map((m) => reading.metrics[m]),
      modelKey: defaultModelKey(reading),
    });
  }
  let inRange = 0;
  for (const r of records) if (r.timeMs >= fromMs) inRange += 1;
  const { detections, detector } = detectionSource(records, fromMs, input.verdicts, options.detectors);
  // Windows run to the device's last reading in the range, not to `toMs` (ADR 0902): the live scorer closes only
  // windows that records arrive in, and the lake cannot tell an outage at the end of a range from readings not yet
  // delivered. Quiet spells between readings reach the silence rule as they do live.
  const [current, candidate] = await runRulePass(
    records,
    detections,
    [resolveThresholds(device, input.rules), candidateThresholds(device, input.rules, input.candidate)],
    options,
  );
  const report = { fromMs, toMs, quietMs: options.quietMs };
  return {
    deviceId: device.deviceId,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    readings: inRange,
    warmUpReadings: ordered.length - inRange,
    duplicates,
    detector,
    current: summarize(current.alerts, current.involved, report),
    candidate: summarize(candidate.alerts, candidate.involved, report),
  };
}

/**
 * Where the detector's results come from: the archived verdicts when every reading of the range has one (warm-up
 * readings without one get `NO_VERDICT`), else the forest over every reading, warm-up included, in event-time order
 * (one detector per model key and metric set, as the scoring path keeps them; `index` is asked in order, once).
 */
function detectionSource(
  records: readonly PassRecord[],
  fromMs: number,
  verdicts: Iterable<ArchivedVerdict> | undefined,
  factory: DetectorFactory,
): { detections: (index: number) => RecordDetection; detector: BacktestDetector } {
  const index = new VerdictIndex(verdicts ?? []);
  const found: (ArchivedVerdict | undefined)[] = [];
  let archived = 0;
  let missing = 0;
  if (index.size > 0) {
    for (const r of records) {
      const v = index.get(r.reading);
      found.push(v);
      if (r.timeMs < fromMs) continue;
      if (v) archived += 1;
      else missing += 1;
    }
  } else {
    for (const r of records) if (r.timeMs >= fromMs) missing += 1;
  }
  if (archived > 0 && missing === 0) {
    return {
      detections: (i) => {
        const v = found[i];
        return v ? detectionOfVerdict(v) : NO_VERDICT;
      },
      detector: { source: "archived", archivedVerdicts: archived, readingsWithoutVerdict: 0 },
    };
  }
  const forests = new Map<string, ScoringDetector>();
  return {
    detections: (i) => {
      const { metricNames, values, modelKey, reading } = records[i];
      const key = detectorKeyOf(modelKey, metricNames);
      let forest = forests.get(key);
      if (!forest) forests.set(key, (forest = factory.create(metricNames.length)));
      return detectionOfResult(forest.process(values, reading.deviceId), metricNames, values);
    },
    detector: { source: "forest", archivedVerdicts: archived, readingsWithoutVerdict: missing },
  };
}
