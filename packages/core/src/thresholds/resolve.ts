import {
  scopeKeysOf,
  type MetricBounds,
  type ScopedDevice,
  type StuckReadings,
  type ThresholdRule,
} from "./threshold-rule.ts";

/** The thresholds in force for one device, each setting tagged with the scope it came from. */
export interface EffectiveThresholds {
  bounds: Record<string, MetricBounds & { scope: string }>;
  scoreThreshold?: { value: number; scope: string };
  silenceWindows?: { value: number; scope: string };
  /** The `stuckReadings` settings of the device's scopes, most specific first (see `stuckReadingsFor`). */
  stuckReadings?: { value: StuckReadings; scope: string }[];
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
    if (rule.stuckReadings !== undefined) {
      (result.stuckReadings ??= []).unshift({ value: rule.stuckReadings, scope });
    }
  }
  return result;
}

/**
 * The stuck-sensor run length in force for one metric (0 = disabled): the most specific scope that sets it for
 * this metric — by name, by `"*"`, or as a plain number — wins; no scope → `fallback`.
 */
export function stuckReadingsFor(
  thresholds: EffectiveThresholds,
  metric: string,
  fallback: number,
): { value: number; scope?: string } {
  for (const { value, scope } of thresholds.stuckReadings ?? []) {
    if (typeof value === "number") return { value, scope };
    const own = Object.hasOwn(value, metric) ? value[metric] : value["*"];
    if (own !== undefined) return { value: own, scope };
  }
  return { value: fallback };
}
