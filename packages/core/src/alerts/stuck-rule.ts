import type { StuckVerdict } from "../scoring/stuck-tracker.ts";
import { alertText } from "./alert-text.ts";
import type { RuleFiring } from "./rule-firing.ts";

/**
 * Stuck rule (pure, over the series' run state evaluated by `StuckTracker`; ADR 0605): a firing while the run is
 * stuck (the metric counts as anomalous in its window); it starts an alert once per run, keyed by the run's start.
 */
export function stuckRule(deviceId: string, verdict: StuckVerdict): RuleFiring | undefined {
  if (!verdict.stuck) return undefined;
  const rule = `stuck:${verdict.metric}`;
  const causes = [{ metric: verdict.metric, value: verdict.value }];
  return {
    kind: "threshold",
    rule,
    raise: verdict.raise,
    causes,
    metrics: [verdict.metric],
    nameKeyMs: verdict.runStartMs,
    message: alertText({
      rule,
      subject: deviceId,
      causes,
      detail: `unchanged for ${verdict.runLength} readings since ${new Date(verdict.runStartMs).toISOString()} (stuck sensor${verdict.atBound ? " at the series' floor or ceiling" : ""}, limit ${verdict.limit})`,
    }),
  };
}
