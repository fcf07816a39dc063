import type { Detection } from "../alerts/anomaly-rule.ts";
import type { ScoringDetector } from "./detector-pool.ts";

/** A detector result as the rules see it: the anomaly rule's input, and the score and grade its alerts carry. */
export interface RecordDetection {
  detection: Detection;
  score: number;
  grade: number;
}

/**
 * A forest result as the rules' detection, for the scoring path (`WindowScorer`) and the backtest alike: attribution
 * and expected ranges named by metric, the grade clamped to [0, 1].
 */
export function detectionOfResult(
  result: ReturnType<ScoringDetector["process"]>,
  metricNames: readonly string[],
  values: readonly number[],
): RecordDetection {
  const attribution: Detection["attribution"] = [];
  for (const a of result.attribution) {
    attribution.push({
      metric: metricNames[a.index],
      value: values[a.index],
      contribution: a.contribution,
      direction: a.direction,
    });
  }
  let expected: Record<string, { min: number; max: number }> | undefined;
  if (result.expected) {
    expected = {};
    for (let i = 0; i < result.expected.length; i++) {
      const r = result.expected[i];
      const range = { min: r.low, max: r.high };
      // (As `Object.fromEntries` did: an own property even for a metric named `__proto__`.)
      if (metricNames[i] === "__proto__")
        Object.defineProperty(expected, metricNames[i], {
          value: range,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else expected[metricNames[i]] = range;
    }
  }
  // One literal (no spread of the result): the fields a detection has, `undefined` where the detector gave none.
  const detection: Detection & { grade: number } = {
    score: result.score,
    grade: result.grade,
    anomaly: result.anomaly,
    newEpisode: result.newEpisode,
    calibrated: result.calibrated,
    expected,
    attribution,
  };
  return { score: result.score, grade: Math.min(1, Math.max(0, result.grade)), detection };
}
