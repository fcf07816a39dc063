import type { StuckTracker, StuckVerdict } from "../scoring/stuck-tracker.ts";
import { stuckReadingsFor, type EffectiveThresholds } from "../thresholds/resolve.ts";
import { anomalyFires, anomalyRule, type Detection } from "./anomaly-rule.ts";
import { boundsRule } from "./bounds-rule.ts";
import type { RuleFiring } from "./rule-firing.ts";
import type { SeriesBaseline } from "./series-baseline.ts";
import { stuckRule } from "./stuck-rule.ts";

/**
 * The per-record alert rules (anomaly, bounds, stuck) over a prepared record and its series state: the one API the
 * scoring handler (`WindowScorer`), the backtest and the detection benchmark call, so they raise the same alerts.
 *
 * Two phases, like the rest of the scoring path: `evaluateRecord` changes nothing; `commitRecord` applies the
 * record to the series state once it was processed successfully (a failed record leaves no trace).
 */
export interface PreparedRecordInput {
  deviceId: string;
  /** Event time, ms (stuck runs only extend on later event times; any order is accepted). */
  timeMs: number;
  metricNames: readonly string[];
  values: readonly number[];
  detection: Detection;
  thresholds: EffectiveThresholds;
}

/** Per-series state the rules read (and `commitRecord` updates). */
export interface SeriesRuleState {
  stuck: StuckTracker;
  baseline: SeriesBaseline;
  /** `stuckReadings` when no scope sets it (0 disables). */
  defaultStuckReadings: number;
}

export interface RecordVerdict {
  /** Every firing, raising or not; `raise` ones start alerts. */
  firings: RuleFiring[];
  /** The record is anomalous under some rule: it counts in its window's `anomalies` and in the archive. */
  anomalous: boolean;
  /** The detector's anomaly rule fired (the archive's `anomaly`). */
  anomaly: boolean;
  /** Metrics to count as anomalous in the window aggregates (one shared empty set when nothing fired). */
  anomalousMetrics: ReadonlySet<string>;
  /** Stuck-run updates, applied by `commitRecord`. */
  stuckVerdicts: StuckVerdict[];
}

/** The usual record's anomalous metrics: none (no set per record). */
const NO_METRICS: ReadonlySet<string> = new Set<string>();

export function evaluateRecord(record: PreparedRecordInput, state: SeriesRuleState): RecordVerdict {
  const { deviceId, metricNames, values, thresholds } = record;
  const firings: RuleFiring[] = [];
  // (The rule's input, with its closure, only for a record it fires on.)
  const anomaly = anomalyFires(record.detection, thresholds)
    ? anomalyRule({
        deviceId,
        detection: record.detection,
        thresholds,
        rangeOf: (metric) => state.baseline.range(deviceId, metric),
      })
    : undefined;
  if (anomaly) firings.push(anomaly);
  // Only a record with a bounded metric can violate a bound (the usual record has none: no per-record map).
  if (hasBounds(thresholds, metricNames)) {
    const metrics: Record<string, number> = {};
    for (let i = 0; i < metricNames.length; i++) metrics[metricNames[i]] = values[i];
    firings.push(...boundsRule({ deviceId, metrics, thresholds }));
  }
  const stuckVerdicts: StuckVerdict[] = [];
  for (let i = 0; i < metricNames.length; i++) {
    const limit =
      thresholds.stuckReadings === undefined
        ? state.defaultStuckReadings
        : stuckReadingsFor(thresholds, metricNames[i], state.defaultStuckReadings).value;
    const verdict = state.stuck.evaluate(deviceId, metricNames[i], values[i], record.timeMs, limit);
    if (!verdict) continue;
    stuckVerdicts.push(verdict);
    const firing = stuckRule(deviceId, verdict);
    if (firing) firings.push(firing);
  }
  let anomalousMetrics = NO_METRICS;
  if (firings.length > 0) {
    const metrics = new Set<string>();
    // An RCF anomaly marks every metric of the record (the forest scores the point as a whole).
    if (anomaly) for (const m of metricNames) metrics.add(m);
    for (const f of firings) for (const m of f.metrics) metrics.add(m);
    anomalousMetrics = metrics;
  }
  return {
    firings,
    anomalous: firings.length > 0,
    anomaly: anomaly !== undefined,
    anomalousMetrics,
    stuckVerdicts,
  };
}

/** Applies a successfully processed record to its series state. */
export function commitRecord(
  record: PreparedRecordInput,
  verdict: RecordVerdict,
  state: SeriesRuleState,
): void {
  state.stuck.commit(verdict.stuckVerdicts);
  for (let i = 0; i < record.metricNames.length; i++) {
    state.baseline.update(record.deviceId, record.metricNames[i], record.values[i]);
  }
}

/** Whether some metric of the record has bounds (`boundViolations` looks up exactly these). */
function hasBounds(thresholds: EffectiveThresholds, metricNames: readonly string[]): boolean {
  for (let i = 0; i < metricNames.length; i++) if (thresholds.bounds[metricNames[i]]) return true;
  return false;
}
