import type { AlertCause, AlertKind } from "./alert.ts";

/** What one rule says about one record (or, for silence, one device or site at a window's end). */
export interface RuleFiring {
  kind: AlertKind;
  /** Alert rule id (`anomaly`, `bound:<metric>:<side>`, `stuck:<metric>`, `silence`, `silence:site`). */
  rule: string;
  /**
   * Start an alert now. False: the record still counts as anomalous (window `anomalies`, scores archive) but starts
   * nothing (an episode already alerted, or suppression); repeated alerts fold into the open incident anyway.
   */
  raise: boolean;
  /** The metrics that caused it (and only those), with values and expected ranges. */
  causes: AlertCause[];
  /** The metrics this firing marks anomalous in the window aggregates. */
  metrics: string[];
  message: string;
  /** Time the alert's execution name is keyed by instead of the window start (a stuck run's first reading). */
  nameKeyMs?: number;
}
