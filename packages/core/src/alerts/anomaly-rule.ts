import type { EffectiveThresholds } from "../thresholds/resolve.ts";
import type { AttributionEntry } from "./alert.ts";
import { alertText, formatValue } from "./alert-text.ts";
import type { RuleFiring } from "./rule-firing.ts";
import type { UsualRange } from "./series-baseline.ts";

/** The detector's verdict on one record, as the anomaly rule needs it (`ScoringDetector.process`). */
export interface Detection {
  score: number;
  anomaly: boolean;
  /** First anomaly of an episode of this series; absent: every anomaly is. */
  newEpisode?: boolean;
  /** The model is calibrated; absent: it is once the forest gives scores (its sample is full: score > 0). */
  calibrated?: boolean;
  /** The detector's own expected range per metric for this series (per-series normalisation), when it has one. */
  expected?: Readonly<Record<string, UsualRange>>;
  attribution: AttributionEntry[];
}

/** Share of the score the named metrics must explain (the top contributors, at least one). */
export const CAUSE_SHARE = 0.7;

/**
 * Whether a model may raise score-based alerts. An explicit `scoreThreshold` compares raw forest scores, so the
 * forest alone must be calibrated (its sample full, so scores are > 0; KDA gives 0 until then). Otherwise the
 * detector's grading must be calibrated too (`Detection.calibrated`; ADR 0606).
 */
export function isCalibrated(detection: Detection, thresholds: EffectiveThresholds): boolean {
  if (!(detection.score > 0)) return false;
  if (thresholds.scoreThreshold) return true;
  return detection.calibrated ?? true;
}

/**
 * Whether the anomaly rule fires on a detection (what `anomalyRule` checks first): a calibrated model, and the raw
 * score above an explicit `scoreThreshold`, else the detector's own verdict. Lets a caller skip building the rule's
 * input for the usual, normal record.
 */
export function anomalyFires(detection: Detection, thresholds: EffectiveThresholds): boolean {
  if (!isCalibrated(detection, thresholds)) return false;
  const explicit = thresholds.scoreThreshold;
  return explicit ? detection.score > explicit.value : detection.anomaly;
}

/**
 * Anomaly rule (pure). Counts every anomalous record of a calibrated model (an explicit `scoreThreshold`, raw score
 * `>`, overrides the detector's grading). Starts an alert only for the first anomaly of an episode (the detector's
 * `newEpisode`), or, with an explicit threshold, for every record above it (repeats fold into the open incident).
 * Names the metrics that explain most of the score, each with its value and usual range.
 */
export function anomalyRule(input: {
  deviceId: string;
  detection: Detection;
  thresholds: EffectiveThresholds;
  rangeOf: (metric: string) => UsualRange | undefined;
}): RuleFiring | undefined {
  const { detection, thresholds } = input;
  if (!anomalyFires(detection, thresholds)) return undefined;
  const explicit = thresholds.scoreThreshold;
  const raise = explicit ? true : detection.newEpisode !== false;
  const causing = causingMetrics(detection.attribution);
  const causes = causing.map((a) => {
    const range = detection.expected?.[a.metric] ?? input.rangeOf(a.metric);
    return {
      metric: a.metric,
      value: a.value,
      direction: a.direction,
      ...(range ? { expected: { min: round(range.min), max: round(range.max) } } : {}),
    };
  });
  const threshold = explicit ? ` above scoreThreshold ${formatValue(explicit.value)}` : "";
  return {
    kind: "anomaly",
    rule: "anomaly",
    raise,
    causes,
    metrics: causes.map((c) => c.metric),
    message: alertText({
      rule: "anomaly",
      subject: input.deviceId,
      causes,
      detail: `RCF score ${formatValue(detection.score)}${threshold}`,
    }),
  };
}

/** The top contributors that together explain at least `CAUSE_SHARE` of the score (at least one). */
export function causingMetrics(attribution: readonly AttributionEntry[]): AttributionEntry[] {
  const sorted = [...attribution].sort((a, b) => b.contribution - a.contribution);
  const total = sorted.reduce((sum, a) => sum + Math.max(0, a.contribution), 0);
  const out: AttributionEntry[] = [];
  let covered = 0;
  for (const a of sorted) {
    out.push(a);
    covered += Math.max(0, a.contribution);
    if (total <= 0 || covered >= CAUSE_SHARE * total) break;
  }
  return out;
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}
