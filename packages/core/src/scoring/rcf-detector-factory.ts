import {
  AnomalyDetector,
  type ForestOptions,
  type ForestPresetName,
  type NormalizerOptions,
  type ThresholderOptions,
} from "../rcf/index.ts";
import type { DetectorFactory } from "./detector-pool.ts";

export interface RcfDetectorOptions {
  forest?: Partial<ForestOptions> & { preset?: ForestPresetName };
  thresholder?: Partial<ThresholderOptions>;
  /** Per-series normalisation before the shared forest (ADR 0305). */
  normalize?: boolean | Partial<NormalizerOptions>;
}

/** The scoring Lambda's detectors: core's `AnomalyDetector` (KDA `RANDOM_CUT_FOREST` defaults unless overridden). */
export function rcfDetectorFactory(options: RcfDetectorOptions = {}): DetectorFactory {
  const detectorOptions = {
    forest: { preset: "kda" as const, ...options.forest },
    thresholder: options.thresholder,
    ...(options.normalize !== undefined ? { normalize: options.normalize } : {}),
  };
  return {
    create: (dimensions) => new AnomalyDetector(dimensions, detectorOptions),
    restore: (bytes) => AnomalyDetector.fromCheckpoint(bytes),
  };
}
