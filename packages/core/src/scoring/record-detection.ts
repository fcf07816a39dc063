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
  const attribution = result.attribution.map((a) => ({
    metric: metricNames[a.index],
    value: values[a.index],
    contribution: a.contribution,
    direction: a.direction,
  }));
  return {
    score: result.score,
    grade: Math.min(1, Math.max(0, result.grade)),
    detection: {
      ...result,
      attribution,
      expected: result.expected
        ? Object.fromEntries(result.expected.map((r, i) => [metricNames[i], { min: r.low, max: r.high }]))
        : undefined,
    },
  };
}
