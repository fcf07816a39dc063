import {
  Duration,
  aws_cloudwatch as cloudwatch,
  aws_iot as iot,
  aws_kinesis as kinesis,
  aws_kinesisfirehose as firehose,
  aws_lambda as lambda,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_stepfunctions as sfn,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import {
  ESCALATION_METRICS,
  SCORING_METRICS,
  TRANSFORM_METRICS,
  WINDOW_STATE_LIMIT_BYTES,
  powertoolsMetric,
  rejectedByCodeSearch,
} from "./monitoring-metrics.ts";

/** What the pipeline dashboard shows, taken from the other stacks' return values. */
export interface PipelineDashboardProps {
  dashboardName: string;
  stage: string;
  /** Default time range, hours. */
  hours: number;
  ingest: {
    rules: Record<string, iot.CfnTopicRule>;
    ruleErrors: sqs.IQueue;
    deliveryStream: firehose.IDeliveryStream;
    transform: lambda.IFunction;
    /** Transformation timeout, seconds (drawn on the duration graph). */
    transformTimeoutSeconds?: number;
    telemetryStream: kinesis.IStream;
  };
  scoring: {
    score: lambda.IFunction;
    failures: sqs.IQueue;
    scoresStream: firehose.IDeliveryStream;
    iteratorAgeAlarmSeconds: number;
  };
  escalation: { stateMachine: sfn.IStateMachine; topics: sns.ITopic[] };
  /** Thresholds of Monitoring's own alarms, drawn on their graphs. */
  thresholds: { deliveryFreshnessSeconds: number };
  /** Every alarm of the pipeline (the status widget at the top). */
  alarms: cloudwatch.IAlarm[];
}

const WIDTH = 24;
const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/**
 * One CloudWatch dashboard for the whole pipeline of a stage, in data-flow order: alarm status; IoT rules;
 * Firehose ingest and its transformation Lambda; the Kinesis stream and the scoring Lambda (with its custom
 * window/alert/checkpoint metrics); dead-letter queues; escalation executions and notifications.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const { stage, ingest, scoring, escalation } = props;
    const custom = (name: string, label?: string, statistic?: string, period = FIVE_MINUTES) =>
      powertoolsMetric(stage, name, { label, statistic, period });
    const firehoseMetric = (
      stream: firehose.IDeliveryStream,
      name: string,
      statistic: string,
      label?: string,
      period = FIVE_MINUTES,
    ) => stream.metric(name, { statistic, label, period });
    const lambdaHealth = (title: string, fn: lambda.IFunction) =>
      graph(
        title,
        [
          fn.metricErrors({ period: FIVE_MINUTES, label: "Errors" }),
          fn.metricThrottles({ period: FIVE_MINUTES, label: "Throttles" }),
        ],
        { right: [fn.metricInvocations({ period: FIVE_MINUTES, label: "Invocations (right)" })] },
      );
    const lambdaDuration = (title: string, fn: lambda.IFunction, timeoutSeconds?: number) =>
      graph(
        title,
        ["Average", "p99", "Maximum"].map((statistic) =>
          fn.metricDuration({ statistic, period: FIVE_MINUTES, label: statistic }),
        ),
        {
          annotations:
            timeoutSeconds === undefined
              ? []
              : [{ value: timeoutSeconds * 1000, label: "timeout", color: cloudwatch.Color.RED }],
        },
      );

    const rules = Object.entries(ingest.rules);
    const ruleId = (metricName: string, i: number) => `${metricName.toLowerCase()}${i}`;
    const perRule = (metricName: string) =>
      Object.fromEntries(
        rules.map(([, rule], i) => [
          ruleId(metricName, i),
          new cloudwatch.Metric({
            namespace: "AWS/IoT",
            metricName,
            dimensionsMap: { RuleName: rule.ruleName! },
            statistic: "Sum",
            period: FIVE_MINUTES,
          }),
        ]),
      );
    const sumOverRules = (metricName: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SUM([${rules.map((_, i) => ruleId(metricName, i)).join(",")}])`,
        usingMetrics: perRule(metricName),
        label,
        period: FIVE_MINUTES,
      });

    const widgets: cloudwatch.IWidget[][] = [
      [
        new cloudwatch.TextWidget({
          markdown: `# Driftwatch ${stage}: pipeline\nIoT rules → Firehose ingest (transform) → lake; Kinesis telemetry → scoring → escalation. What each alarm means and what to check first: \`docs/operations.md\`.`,
          width: WIDTH,
          height: 2,
        }),
      ],
      [
        new cloudwatch.AlarmStatusWidget({
          title: "Alarms",
          alarms: props.alarms,
          width: WIDTH,
          height: Math.max(3, Math.ceil(props.alarms.length / 4) + 1),
        }),
      ],
      [section("IoT rules")],
      [
        graph(
          "IoT rules: messages matched",
          rules.map(
            ([name, rule]) =>
              new cloudwatch.Metric({
                namespace: "AWS/IoT",
                metricName: "TopicMatch",
                dimensionsMap: { RuleName: rule.ruleName! },
                statistic: "Sum",
                period: FIVE_MINUTES,
                label: name,
              }),
          ),
          { width: 12 },
        ),
        graph(
          "IoT rule errors",
          [
            ingest.ruleErrors.metricNumberOfMessagesSent({
              period: FIVE_MINUTES,
              label: "Action failures (→ RuleErrors queue)",
            }),
            sumOverRules("ParseError", "SQL parse errors"),
            sumOverRules("RuleMessageThrottled", "Throttled"),
          ],
          { width: 12 },
        ),
      ],
      [section("Firehose ingest and transformation")],
      [
        graph("Firehose ingest: records", [
          ingest.deliveryStream.metricIncomingRecords({ period: FIVE_MINUTES, label: "Incoming" }),
          firehoseMetric(ingest.deliveryStream, "DeliveryToS3.Records", "Sum", "Delivered to lake"),
          firehoseMetric(ingest.deliveryStream, "BackupToS3.Records", "Sum", "Backed up to raw/"),
          firehoseMetric(ingest.deliveryStream, "ThrottledRecords", "Sum", "Throttled"),
        ]),
        graph(
          "Firehose ingest: delivery freshness (s)",
          [
            firehoseMetric(ingest.deliveryStream, "DeliveryToS3.DataFreshness", "Maximum", "Lake"),
            firehoseMetric(ingest.deliveryStream, "BackupToS3.DataFreshness", "Maximum", "raw/ backup"),
          ],
          {
            annotations: [
              {
                value: props.thresholds.deliveryFreshnessSeconds,
                label: "alarm",
                color: cloudwatch.Color.RED,
              },
            ],
          },
        ),
        graph(
          "Firehose ingest: success ratios",
          [
            firehoseMetric(ingest.deliveryStream, "DeliveryToS3.Success", "Average", "Delivery to lake"),
            firehoseMetric(ingest.deliveryStream, "BackupToS3.Success", "Average", "Backup to raw/"),
            firehoseMetric(
              ingest.deliveryStream,
              "ExecuteProcessing.Success",
              "Average",
              "Transform invocations",
            ),
          ],
          { leftYAxis: { min: 0, max: 1.05 } },
        ),
      ],
      [
        lambdaHealth("Transform Lambda: errors, throttles", ingest.transform),
        lambdaDuration("Transform Lambda: duration (ms)", ingest.transform, ingest.transformTimeoutSeconds),
        graph("Transform: records by outcome", [
          custom(TRANSFORM_METRICS.recordsIn, "In"),
          custom(TRANSFORM_METRICS.recordsOk, "Readings"),
          custom(TRANSFORM_METRICS.recordsRejected, "Rejected"),
          custom(TRANSFORM_METRICS.recordsDropped, "Dropped (duplicates)"),
          custom(TRANSFORM_METRICS.phiValuesVaulted, "PHI values vaulted"),
          custom(TRANSFORM_METRICS.invocationFailed, "Invocations failed"),
        ]),
      ],
      [
        graph("Transform: rejections by code", [rejectedByCodeSearch(stage)], { width: 12 }),
        graph(
          "Scores archive (Firehose): freshness (s) and delivery",
          [firehoseMetric(scoring.scoresStream, "DeliveryToS3.DataFreshness", "Maximum", "Freshness")],
          {
            width: 12,
            right: [
              firehoseMetric(
                scoring.scoresStream,
                "DeliveryToS3.Success",
                "Average",
                "Delivery success (right)",
              ),
            ],
          },
        ),
      ],
      [section("Kinesis telemetry and scoring")],
      [
        graph(
          "Kinesis telemetry: incoming records",
          [
            ingest.telemetryStream.metricIncomingRecords({
              period: FIVE_MINUTES,
              statistic: "Sum",
              label: "Incoming",
            }),
          ],
          {
            right: [
              ingest.telemetryStream.metricWriteProvisionedThroughputExceeded({
                period: FIVE_MINUTES,
                statistic: "Sum",
                label: "Write throttled (right)",
              }),
              ingest.telemetryStream.metricReadProvisionedThroughputExceeded({
                period: FIVE_MINUTES,
                statistic: "Sum",
                label: "Read throttled (right)",
              }),
            ],
          },
        ),
        graph(
          "Iterator age (ms)",
          [
            scoring.score.metric("IteratorAge", {
              statistic: "Maximum",
              period: ONE_MINUTE,
              label: "Scoring Lambda",
            }),
            ingest.telemetryStream.metricGetRecordsIteratorAgeMilliseconds({
              statistic: "Maximum",
              period: ONE_MINUTE,
              label: "Stream",
            }),
          ],
          {
            annotations: [
              { value: scoring.iteratorAgeAlarmSeconds * 1000, label: "alarm", color: cloudwatch.Color.RED },
            ],
          },
        ),
        graph(
          "Dead-letter queues: messages visible",
          [
            scoring.failures.metricApproximateNumberOfMessagesVisible({
              period: ONE_MINUTE,
              statistic: "Maximum",
              label: "ScoringFailures",
            }),
            ingest.ruleErrors.metricApproximateNumberOfMessagesVisible({
              period: ONE_MINUTE,
              statistic: "Maximum",
              label: "RuleErrors",
            }),
          ],
          {
            right: [
              scoring.failures.metricApproximateAgeOfOldestMessage({
                period: ONE_MINUTE,
                statistic: "Maximum",
                label: "ScoringFailures oldest (s, right)",
              }),
            ],
          },
        ),
      ],
      [
        lambdaHealth("Scoring Lambda: errors, throttles", scoring.score),
        lambdaDuration("Scoring Lambda: duration (ms)", scoring.score),
        graph("Scoring: records", [
          custom(SCORING_METRICS.recordsReceived, "Received"),
          custom(SCORING_METRICS.recordsScored, "Scored"),
          custom(SCORING_METRICS.recordsSkippedInvalid, "Skipped (invalid)"),
          custom(SCORING_METRICS.anomalousRecords, "Anomalous"),
        ]),
      ],
      [
        graph("Scoring: alerts", [
          custom(SCORING_METRICS.alertsRaised, "Alerts raised"),
          custom(SCORING_METRICS.escalationsStarted, "Escalations started"),
          custom(SCORING_METRICS.silenceAlerts, "Silence alerts"),
          custom(SCORING_METRICS.stuckAlerts, "Stuck-sensor alerts"),
          custom(SCORING_METRICS.silenceResolvedOnReturn, "Silence resolved (device reported again)"),
        ]),
        graph(
          "Scoring: window close (checkpoints, aggregates)",
          [
            custom(SCORING_METRICS.checkpointsWritten, "Checkpoints written"),
            custom(SCORING_METRICS.aggregatePartsWritten, "Aggregate parts written"),
            custom(SCORING_METRICS.partialFlushes, "Partial flushes (state full)"),
            custom(SCORING_METRICS.windowTicksPut, "Window ticks put (schedule)"),
          ],
          { right: [custom(SCORING_METRICS.checkpointTime, "Checkpoint time ms, max (right)", "Maximum")] },
        ),
        graph(
          "Scoring: window state size (bytes)",
          [custom(SCORING_METRICS.windowStateSize, "Max per invocation", "Maximum")],
          {
            annotations: [
              { value: WINDOW_STATE_LIMIT_BYTES, label: "Lambda limit (1 MB)", color: cloudwatch.Color.RED },
            ],
          },
        ),
      ],
      [section("Escalation")],
      [
        graph("Step Functions: executions", [
          escalation.stateMachine.metricStarted({ period: FIVE_MINUTES, label: "Started" }),
          escalation.stateMachine.metricSucceeded({ period: FIVE_MINUTES, label: "Succeeded" }),
          escalation.stateMachine.metricFailed({ period: FIVE_MINUTES, label: "Failed" }),
          escalation.stateMachine.metricTimedOut({ period: FIVE_MINUTES, label: "Timed out" }),
          escalation.stateMachine.metricAborted({ period: FIVE_MINUTES, label: "Aborted" }),
          escalation.stateMachine.metricThrottled({ period: FIVE_MINUTES, label: "Throttled" }),
        ]),
        graph("Incidents", [
          custom(ESCALATION_METRICS.incidentsOpened, "Opened"),
          custom(ESCALATION_METRICS.alertsFolded, "Alerts folded into open incident"),
          custom(ESCALATION_METRICS.ackTimeouts, "Acknowledgement timeouts"),
          custom(ESCALATION_METRICS.incidentsUnacknowledged, "Unacknowledged after every tier"),
          custom(ESCALATION_METRICS.incidentsClosed, "Closed"),
          custom(ESCALATION_METRICS.escalationStepErrors, "Step errors"),
        ]),
        graph(
          "Notification failures",
          [
            custom(ESCALATION_METRICS.notificationAttemptsFailed, "Attempts failed (retried)"),
            custom(ESCALATION_METRICS.notificationChannelFailures, "Channels failed"),
            custom(ESCALATION_METRICS.tierUndelivered, "Tiers undelivered"),
            ...escalation.topics.map((topic, i) =>
              topic.metricNumberOfNotificationsFailed({
                period: FIVE_MINUTES,
                statistic: "Sum",
                label: `SNS tier ${i + 1} deliveries failed`,
              }),
            ),
            custom(ESCALATION_METRICS.ackLinksRefused, "Ack links refused"),
          ],
          {
            right: [
              custom(ESCALATION_METRICS.notificationsSent, "Sent (right)"),
              custom(ESCALATION_METRICS.ackLinksUsed, "Acknowledged via link (right)"),
            ],
          },
        ),
      ],
    ];

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(props.hours),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
      widgets,
    });
  }
}

function section(title: string): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({ markdown: `## ${title}`, width: WIDTH, height: 1 });
}

function graph(
  title: string,
  left: cloudwatch.IMetric[],
  options: {
    right?: cloudwatch.IMetric[];
    annotations?: cloudwatch.HorizontalAnnotation[];
    width?: number;
    leftYAxis?: cloudwatch.YAxisProps;
  } = {},
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    left,
    right: options.right,
    leftAnnotations: options.annotations,
    leftYAxis: options.leftYAxis ?? { min: 0 },
    width: options.width ?? 8,
    height: 6,
  });
}
