import type { EffectiveThresholds } from "./resolve.ts";

export interface BoundViolation {
  metric: string;
  side: "high" | "low";
  value: number;
  limit: number;
  scope: string;
  /** Alert rule id, as in `alerts/alert.ts`: `bound:<metric>:<high|low>`. */
  rule: string;
}

/** Static bound checks of one reading's metrics (strictly outside [min, max] violates). */
export function boundViolations(
  metrics: Record<string, number>,
  thresholds: EffectiveThresholds,
): BoundViolation[] {
  const violations: BoundViolation[] = [];
  for (const [metric, value] of Object.entries(metrics)) {
    const bounds = thresholds.bounds[metric];
    if (!bounds) continue;
    if (bounds.max !== undefined && value > bounds.max) {
      violations.push({
        metric,
        side: "high",
        value,
        limit: bounds.max,
        scope: bounds.scope,
        rule: `bound:${metric}:high`,
      });
    } else if (bounds.min !== undefined && value < bounds.min) {
      violations.push({
        metric,
        side: "low",
        value,
        limit: bounds.min,
        scope: bounds.scope,
        rule: `bound:${metric}:low`,
      });
    }
  }
  return violations;
}

/** Anomaly decision: an explicit score threshold (raw RCF score, `>`) overrides the detector's adaptive one. */
export function isAnomalous(
  score: number,
  detectorSaysAnomaly: boolean,
  thresholds: EffectiveThresholds,
): boolean {
  return thresholds.scoreThreshold ? score > thresholds.scoreThreshold.value : detectorSaysAnomaly;
}
