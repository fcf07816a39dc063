import { scopeKeysOf, type MetricBounds, type ScopedDevice, type ThresholdRule } from "./threshold-rule.ts";

/** The thresholds in force for one device, each setting tagged with the scope it came from. */
export interface EffectiveThresholds {
  bounds: Record<string, MetricBounds & { scope: string }>;
  scoreThreshold?: { value: number; scope: string };
  silenceWindows?: { value: number; scope: string };
}

/**
 * Resolves device > model > manufacturer > global. Per metric, the most specific scope that bounds the metric
 * supplies its bounds as a whole (a device-level `temp` bound replaces the model's `temp` bound, min and max
 * together); score threshold and silence windows likewise come from the most specific scope that sets them.
 */
export function resolveThresholds(
  device: ScopedDevice,
  rules: readonly ThresholdRule[],
): EffectiveThresholds {
  const byScope = new Map(rules.map((r) => [r.scope, r]));
  const result: EffectiveThresholds = { bounds: {} };
  // Least specific first, so more specific scopes overwrite.
  for (const scope of scopeKeysOf(device).reverse()) {
    const rule = byScope.get(scope);
    if (!rule) continue;
    for (const [metric, bounds] of Object.entries(rule.bounds ?? {})) {
      result.bounds[metric] = { ...bounds, scope };
    }
    if (rule.scoreThreshold !== undefined) result.scoreThreshold = { value: rule.scoreThreshold, scope };
    if (rule.silenceWindows !== undefined) result.silenceWindows = { value: rule.silenceWindows, scope };
  }
  return result;
}
