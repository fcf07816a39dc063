export { RandomCutForest, type Attribution } from "./forest.ts";
export {
  forestPresets,
  forestOptionsSchema,
  resolveForestOptions,
  type ForestOptions,
  type ForestOptionsInput,
  type ForestPresetName,
} from "./options.ts";
export {
  Thresholder,
  defaultThresholderOptions,
  resolveThresholderOptions,
  thresholderOptionsSchema,
  type MetricBounds,
  type ThresholdDecision,
  type ThresholderOptions,
} from "./thresholder.ts";
export {
  AnomalyDetector,
  type AnomalyDetectorOptions,
  type DetectorResult,
  type MetricAttribution,
} from "./detector.ts";
export {
  SeriesNormalizer,
  defaultNormalizerOptions,
  normalizerOptionsSchema,
  type NormalizerOptions,
} from "./series-normalizer.ts";
export { CHECKPOINT_VERSION } from "./checkpoint.ts";
export {
  CheckpointFormatError,
  CheckpointVersionError,
  InvalidForestOptionsError,
  InvalidPointError,
} from "./errors.ts";
