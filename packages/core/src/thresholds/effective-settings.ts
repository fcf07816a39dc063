import { resolveThresholds } from "./resolve.ts";
import { scopePathOf } from "./scope-path.ts";
import { scopeKeysOf, type ScopedDevice, type StuckReadings, type ThresholdRule } from "./threshold-rule.ts";

/** Where a setting comes from: a scope path, or `default` (the scorer's built-in value). */
export interface Sourced<T> {
  value: T;
  scope: string;
}

/** `GET /api/devices/{deviceId}/thresholds`: the settings in force for one device, each with its scope. */
export interface EffectiveSettings {
  deviceId: string;
  /** The device's scopes, most specific first (paths). */
  scopes: string[];
  bounds: Record<string, { min?: Sourced<number>; max?: Sourced<number> }>;
  scoreThreshold: Sourced<number> | null;
  silenceWindows: Sourced<number>;
  stuckReadings: Sourced<StuckReadings>;
}

export const DEFAULT_SCOPE = "default";

/**
 * Resolves a device's rules (device > model > manufacturer > global, as the scorer does with `resolveThresholds`)
 * into the API's view. Unset silence windows and stuck readings show the scorer's defaults with scope `default`;
 * an unset score threshold is null (the detector's adaptive grading decides).
 */
export function effectiveSettings(
  device: ScopedDevice,
  rules: readonly ThresholdRule[],
  defaults: { silenceWindows: number; stuckReadings: number },
): EffectiveSettings {
  const resolved = resolveThresholds(device, rules);
  const bounds: EffectiveSettings["bounds"] = {};
  for (const [metric, b] of Object.entries(resolved.bounds)) {
    const scope = scopePathOf(b.scope);
    bounds[metric] = {
      ...(b.min !== undefined ? { min: { value: b.min, scope } } : {}),
      ...(b.max !== undefined ? { max: { value: b.max, scope } } : {}),
    };
  }
  const stuck = resolved.stuckReadings?.[0];
  return {
    deviceId: device.deviceId,
    scopes: scopeKeysOf(device).map(scopePathOf),
    bounds,
    scoreThreshold: resolved.scoreThreshold
      ? { value: resolved.scoreThreshold.value, scope: scopePathOf(resolved.scoreThreshold.scope) }
      : null,
    silenceWindows: resolved.silenceWindows
      ? { value: resolved.silenceWindows.value, scope: scopePathOf(resolved.silenceWindows.scope) }
      : { value: defaults.silenceWindows, scope: DEFAULT_SCOPE },
    stuckReadings: stuck
      ? { value: stuck.value, scope: scopePathOf(stuck.scope) }
      : { value: defaults.stuckReadings, scope: DEFAULT_SCOPE },
  };
}
