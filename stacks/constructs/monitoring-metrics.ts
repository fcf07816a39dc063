import { Duration, aws_cloudwatch as cloudwatch } from "aws-cdk-lib";
import { powertoolsMetricTarget } from "./monitoring-config.ts";

/**
 * The custom (Powertools EMF) metrics the handlers emit, by producer: defined once in core
 * (packages/core/src/shared/metric-names.ts), imported by the producers and by these graphs and alarms. All share
 * one namespace and one `service` dimension (`powertoolsMetricTarget`), so a name means the same series whichever
 * function emits it.
 */
import { TRANSFORM_METRICS } from "../../packages/core/src/shared/metric-names.ts";
export {
  ESCALATION_METRICS,
  SCORING_METRICS,
  TRANSFORM_METRICS,
} from "../../packages/core/src/shared/metric-names.ts";

/** Lambda tumbling-window state limit per shard (bytes), drawn on the window-state graph. */
export const WINDOW_STATE_LIMIT_BYTES = 1024 * 1024;

/** A Powertools metric of `stage` (Sum per `period` unless told otherwise). */
export function powertoolsMetric(
  stage: string,
  metricName: string,
  options: { label?: string; statistic?: string; period?: Duration } = {},
): cloudwatch.Metric {
  const { namespace, dimensionsMap } = powertoolsMetricTarget(stage);
  return new cloudwatch.Metric({
    namespace,
    metricName,
    dimensionsMap,
    statistic: options.statistic ?? "Sum",
    period: options.period ?? Duration.minutes(5),
    label: options.label,
  });
}

/**
 * The rejections-by-reason series (one per `code`), found by a search expression: the codes are open-ended
 * (validation, unknown device, unknown topic, …) so they cannot be listed at synth time.
 */
export function rejectedByCodeSearch(stage: string, period = Duration.minutes(5)): cloudwatch.MathExpression {
  const { namespace, dimensionsMap } = powertoolsMetricTarget(stage);
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${namespace},code,service} MetricName="${TRANSFORM_METRICS.rejectedByCode}" service="${dimensionsMap.service}"', 'Sum', ${period.toSeconds()})`,
    label: "",
    period,
  });
}
