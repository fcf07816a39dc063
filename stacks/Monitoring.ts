import {
  Arn,
  Duration,
  Token,
  aws_sns as sns,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_lambda as lambda,
} from "aws-cdk-lib";
import { use, type StackContext } from "sst/constructs";
import { PipelineDashboard } from "./constructs/monitoring-dashboard.ts";
import { alarmName, tierTopicName } from "./constructs/names.ts";
import { monitoringConfig, type AlarmThreshold } from "./constructs/monitoring-config.ts";
import { Escalation } from "./Escalation.ts";
import { Ingest } from "./Ingest.ts";
import { Scoring } from "./Scoring.ts";
import { Storage } from "./Storage.ts";

/**
 * Monitoring: one CloudWatch dashboard per stage over the whole pipeline, and the alarms no other stack owns —
 * transform failures (Lambda errors) and Firehose delivery to the lake (failures, data freshness). Alarms that sit
 * next to their resource (IoT rule errors in Ingest; iterator age and DLQ depth in Scoring; failed and timed-out
 * executions, undelivered tiers, unacknowledged incidents and step errors in Escalation) are reused, not
 * duplicated: the dashboard's status widget shows them all. Every alarm notifies Storage's `alarmTopic`.
 * Runbook: docs/operations.md.
 */
export function Monitoring({ app, stack }: StackContext) {
  const storage = use(Storage);
  const ingest = use(Ingest);
  const scoring = use(Scoring);
  const escalation = use(Escalation);
  const config = monitoringConfig(app.stage);
  const alarmAction = new cloudwatchActions.SnsAction(storage.alarmTopic);

  const alarm = (
    id: string,
    description: string,
    metric: cloudwatch.Metric,
    settings: AlarmThreshold,
    comparisonOperator: cloudwatch.ComparisonOperator,
  ) => {
    const created = new cloudwatch.Alarm(stack, id, {
      alarmName: alarmName(app, id),
      alarmDescription: `${description} (runbook: docs/operations.md#${id.toLowerCase()})`,
      metric: metric.with({ period: Duration.minutes(settings.periodMinutes) }),
      threshold: settings.threshold,
      evaluationPeriods: settings.evaluationPeriods,
      datapointsToAlarm: settings.datapointsToAlarm,
      comparisonOperator,
      // No traffic, no datapoints: an idle stage is not an incident.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(alarmAction);
    return created;
  };

  const transformErrors = alarm(
    "TransformErrorsAlarm",
    "The Firehose transformation Lambda is failing: Firehose retries each failed batch, then writes its records (raw) to errors/firehose/processing-failed/",
    ingest.transform.metricErrors({ statistic: "Sum" }),
    config.transformErrors,
    cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  );
  const deliveryFailed = alarm(
    "IngestDeliveryFailedAlarm",
    "Firehose ingest cannot write to the lake (DeliveryToS3.Success below 1): it retries, but the lake is not being written",
    ingest.deliveryStream.metric("DeliveryToS3.Success", { statistic: "Average" }),
    config.deliverySuccess,
    cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
  );
  const deliveryStale = alarm(
    "IngestFreshnessAlarm",
    `Firehose ingest is falling behind: the oldest record waited more than ${config.deliveryFreshness.threshold} s to reach the lake`,
    ingest.deliveryStream.metric("DeliveryToS3.DataFreshness", { statistic: "Maximum" }),
    config.deliveryFreshness,
    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  );

  // Other stacks' alarms and tier topics by name, not by export: removing one never blocks on Monitoring.
  const byName = (alarm: cloudwatch.Alarm) => {
    const name = (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName;
    if (!name || Token.isUnresolved(name))
      throw new Error(`alarm ${alarm.node.path} needs a fixed alarmName`);
    return cloudwatch.Alarm.fromAlarmName(stack, `Ref${alarm.node.id}`, name);
  };
  const alarms = {
    transformErrors,
    deliveryFailed,
    deliveryStale,
    ruleErrors: byName(ingest.ruleErrorsAlarm),
    ...(ingest.lakeWriter ? { lakeWriterIteratorAge: byName(ingest.lakeWriter.iteratorAge) } : {}),
    iteratorAge: byName(scoring.alarms.iteratorAge),
    scoringDlq: byName(scoring.alarms.dlqDepth),
    ...Object.fromEntries(Object.entries(escalation.alarms).map(([id, alarm]) => [id, byName(alarm)])),
  };
  const tierTopics = escalation.topics.map((_topic, i) =>
    sns.Topic.fromTopicArn(
      stack,
      `RefTier${i + 1}Topic`,
      Arn.format({ service: "sns", resource: tierTopicName(app, i + 1) }, stack),
    ),
  );

  const { dashboard } = new PipelineDashboard(stack, "Pipeline", {
    // Dashboard names are unique per account (not per region).
    dashboardName: app.logicalPrefixedName(`pipeline-${app.region}`),
    stage: app.stage,
    hours: config.dashboardHours,
    ingest: {
      rules: ingest.rules,
      ruleErrors: ingest.ruleErrors,
      deliveryStream: ingest.deliveryStream,
      transform: ingest.transform,
      transformTimeoutSeconds: (ingest.transform.node.defaultChild as lambda.CfnFunction).timeout,
      telemetryStream: ingest.telemetryStream,
    },
    scoring: {
      score: scoring.score,
      failures: scoring.failures,
      scoresStream: scoring.scoresStream,
      iteratorAgeAlarmSeconds: scoring.config.iteratorAgeAlarmSeconds,
    },
    escalation: { stateMachine: escalation.stateMachine, topics: tierTopics },
    thresholds: { deliveryFreshnessSeconds: config.deliveryFreshness.threshold },
    alarms: Object.values(alarms),
  });

  stack.addOutputs({ Dashboard: dashboard.dashboardName });

  return { dashboard, alarms };
}
