import { boundViolations } from "../thresholds/evaluate.ts";
import type { EffectiveThresholds } from "../thresholds/resolve.ts";
import { scopePathOf } from "../thresholds/scope-path.ts";
import { alertText } from "./alert-text.ts";
import type { RuleFiring } from "./rule-firing.ts";

/**
 * Bounds rule (pure): one firing per metric strictly outside its effective [min, max], naming that metric only,
 * its value, the bounds and the scope they come from (a `pressure` alert never mentions `flow`).
 */
export function boundsRule(input: {
  deviceId: string;
  metrics: Record<string, number>;
  thresholds: EffectiveThresholds;
}): RuleFiring[] {
  return boundViolations(input.metrics, input.thresholds).map((v) => {
    const bounds = input.thresholds.bounds[v.metric];
    const causes = [
      {
        metric: v.metric,
        value: v.value,
        direction: v.side === "high" ? ("HIGH" as const) : ("LOW" as const),
        expected: {
          ...(bounds?.min !== undefined ? { min: bounds.min } : {}),
          ...(bounds?.max !== undefined ? { max: bounds.max } : {}),
        },
      },
    ];
    return {
      kind: "threshold" as const,
      rule: v.rule,
      raise: true,
      causes,
      metrics: [v.metric],
      message: alertText({
        rule: v.rule,
        subject: input.deviceId,
        causes,
        detail: `bounds of ${scopePathOf(v.scope)}`,
      }),
    };
  });
}
