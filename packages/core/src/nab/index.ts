export { parseNabCsv, type NabRow } from "./csv.ts";
export { NabCsvError, NabLabelError } from "./errors.ts";
export { parseNabLabels, type NabLabels } from "./labels.ts";
export {
  nabProfiles,
  probationaryLength,
  rowWeights,
  scaledSigmoid,
  scoreCorpus,
  windowRows,
  type NabProfile,
  type NabProfileName,
  type NabProfileResult,
  type NabSeries,
  type NabSeriesResult,
} from "./scorer.ts";
export { parseNabTimestamp } from "./timestamp.ts";
