import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Template } from "aws-cdk-lib/assertions";
import { monitoringConfig } from "../constructs/monitoring-config.ts";
import { ESCALATION_METRICS, SCORING_METRICS, TRANSFORM_METRICS } from "../constructs/monitoring-metrics.ts";
import { formatFindings } from "./harness.ts";
import { sharedSynth, type SharedSynth } from "./shared-synth.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;
type Resources = Record<string, { Type: string; Properties: Props }>;

interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: unknown[][];
    alarms?: string[];
    annotations?: Props;
  };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const resources = (t: Template, type: string) => Object.entries(t.findResources(type) as Resources);

/**
 * The dashboard body is an `Fn::Join` of JSON text and CloudFormation references; references become
 * `<Ref:…>` / `<Import:…>` / `<GetAtt:…>` placeholders so the JSON can be parsed and inspected.
 */
function dashboardBody(t: Template): { widgets: Widget[] } {
  const [[, dashboard]] = resources(t, "AWS::CloudWatch::Dashboard");
  const body = dashboard.Properties.DashboardBody;
  const parts: unknown[] = typeof body === "string" ? [body] : body["Fn::Join"][1];
  const text = parts
    .map((part) => {
      if (typeof part === "string") return part;
      const p = part as Props;
      if (p.Ref) return `<Ref:${p.Ref}>`;
      if (p["Fn::ImportValue"]) return `<Import:${JSON.stringify(p["Fn::ImportValue"]).replace(/"/g, "")}>`;
      if (p["Fn::GetAtt"]) return `<GetAtt:${p["Fn::GetAtt"].join(".")}>`;
      return `<${JSON.stringify(p).replace(/"/g, "")}>`;
    })
    .join("");
  return JSON.parse(text);
}

const metricNames = (w: Widget) =>
  (w.properties.metrics ?? []).map((m) => {
    const expression = m.find((x) => typeof x === "object" && x !== null && "expression" in x) as
      { expression: string } | undefined;
    return expression ? expression.expression : `${m[0]}/${m[1]}`;
  });

describe.each(["test", "production"])("Monitoring stack (stage %s)", (stage) => {
  let synth: SharedSynth;
  let t: Template;
  let widgets: Widget[];
  const config = monitoringConfig(stage);
  const graph = (title: string) => {
    const found = widgets.find((w) => w.properties.title === title);
    expect(found, title).toBeDefined();
    return found!;
  };
  const alarmsOf = (template: Template) =>
    resources(template, "AWS::CloudWatch::Alarm").map(([, r]) => r.Properties);
  const alarmTopicImport = () => {
    // The alarm topic lives in Storage; every Monitoring alarm notifies it through an import.
    const storageTopics = resources(synth.templates.Storage, "AWS::SNS::Topic");
    expect(storageTopics).toHaveLength(1);
    return storageTopics[0][0];
  };

  beforeAll(async () => {
    synth = await sharedSynth(stage);
    t = synth.templates.Monitoring;
    widgets = dashboardBody(t).widgets;
  });

  it("passes cdk-nag (AwsSolutions + HIPAA Security) with zero unsuppressed findings", () => {
    expect(formatFindings(synth.findings)).toEqual([]);
  });

  it("creates one dashboard per stage, named after the stage and region", () => {
    const dashboards = resources(t, "AWS::CloudWatch::Dashboard");
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0][1].Properties.DashboardName).toBe(`${stage}-driftwatch-pipeline-us-east-1`);
    expect(widgets.length).toBeGreaterThanOrEqual(20);
  });

  it("covers IoT rule errors, Firehose ingest and the transformation Lambda", () => {
    const ruleErrors = metricNames(graph("IoT rule errors"));
    expect(ruleErrors).toContain("AWS/SQS/NumberOfMessagesSent");
    expect(ruleErrors.some((m) => m.startsWith("SUM(["))).toBe(true);
    expect(metricNames(graph("IoT rules: messages matched")).every((m) => m === "AWS/IoT/TopicMatch")).toBe(
      true,
    );

    expect(metricNames(graph("Firehose ingest: records"))).toEqual(
      expect.arrayContaining(["AWS/Firehose/IncomingRecords", "AWS/Firehose/DeliveryToS3.Records"]),
    );
    const freshness = graph("Firehose ingest: delivery freshness (s)");
    expect(metricNames(freshness)).toContain("AWS/Firehose/DeliveryToS3.DataFreshness");
    expect(JSON.stringify(freshness.properties.annotations)).toContain(
      `"value":${config.deliveryFreshness.threshold}`,
    );
    expect(metricNames(graph("Firehose ingest: success ratios"))).toEqual(
      expect.arrayContaining(["AWS/Firehose/DeliveryToS3.Success", "AWS/Firehose/ExecuteProcessing.Success"]),
    );
    expect(metricNames(graph("Transform Lambda: errors, throttles"))).toEqual([
      "AWS/Lambda/Errors",
      "AWS/Lambda/Throttles",
      "AWS/Lambda/Invocations",
    ]);
    expect(metricNames(graph("Transform Lambda: duration (ms)"))).toContain("AWS/Lambda/Duration");
    expect(metricNames(graph("Transform: records by outcome"))).toEqual(
      [
        TRANSFORM_METRICS.recordsIn,
        TRANSFORM_METRICS.recordsOk,
        TRANSFORM_METRICS.recordsRejected,
        TRANSFORM_METRICS.recordsDropped,
        TRANSFORM_METRICS.phiValuesVaulted,
        TRANSFORM_METRICS.invocationFailed,
      ].map((name) => `Driftwatch/${name}`),
    );
    expect(metricNames(graph("Transform: rejections by code"))[0]).toContain(
      'MetricName="RecordsRejectedByCode"',
    );
  });

  it("covers the Kinesis stream, the scoring Lambda and its custom metrics, and the DLQs", () => {
    expect(metricNames(graph("Kinesis telemetry: incoming records"))).toContain(
      "AWS/Kinesis/IncomingRecords",
    );
    const iterator = graph("Iterator age (ms)");
    expect(metricNames(iterator)).toEqual([
      "AWS/Lambda/IteratorAge",
      "AWS/Kinesis/GetRecords.IteratorAgeMilliseconds",
    ]);
    expect(JSON.stringify(iterator.properties.annotations)).toContain(`"value":${(2 * 60 + 120) * 1000}`);
    expect(metricNames(graph("Scoring Lambda: errors, throttles"))).toContain("AWS/Lambda/Errors");
    expect(metricNames(graph("Scoring Lambda: duration (ms)"))).toContain("AWS/Lambda/Duration");
    const scoringCustom = [
      "Scoring: records",
      "Scoring: alerts",
      "Scoring: window close (checkpoints, aggregates)",
      "Scoring: window state size (bytes)",
    ].flatMap((title) => metricNames(graph(title)));
    expect(scoringCustom.sort()).toEqual(
      Object.values(SCORING_METRICS)
        .map((n) => `Driftwatch/${n}`)
        .sort(),
    );
    expect(JSON.stringify(graph("Scoring: window state size (bytes)").properties.annotations)).toContain(
      `"value":${1024 * 1024}`,
    );
    expect(metricNames(graph("Dead-letter queues: messages visible"))).toEqual([
      "AWS/SQS/ApproximateNumberOfMessagesVisible",
      "AWS/SQS/ApproximateNumberOfMessagesVisible",
      "AWS/SQS/ApproximateAgeOfOldestMessage",
    ]);
    // The Lambda metrics name the scoring function (an import from the Scoring stack).
    const lambdaMetric = graph("Scoring Lambda: errors, throttles").properties.metrics![0];
    expect(String(lambdaMetric[3])).toMatch(/^<Import:.*Score/);
  });

  it("covers escalation executions (started, failed, timed out) and notification failures", () => {
    expect(metricNames(graph("Step Functions: executions"))).toEqual(
      expect.arrayContaining([
        "AWS/States/ExecutionsStarted",
        "AWS/States/ExecutionsFailed",
        "AWS/States/ExecutionsTimedOut",
      ]),
    );
    const notifications = metricNames(graph("Notification failures"));
    expect(notifications).toEqual(
      expect.arrayContaining([
        `Driftwatch/${ESCALATION_METRICS.notificationAttemptsFailed}`,
        `Driftwatch/${ESCALATION_METRICS.notificationChannelFailures}`,
        `Driftwatch/${ESCALATION_METRICS.tierUndelivered}`,
        "AWS/SNS/NumberOfNotificationsFailed",
      ]),
    );
  });

  it("alarms on transform errors and Firehose delivery (failures, freshness) into the alarm topic, with the stage's thresholds", () => {
    const alarms = alarmsOf(t);
    expect(alarms).toHaveLength(3);
    const topic = alarmTopicImport();
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toHaveLength(1);
      expect(JSON.stringify(alarm.AlarmActions[0])).toContain(topic);
      expect(alarm.TreatMissingData).toBe("notBreaching");
      expect(alarm.AlarmDescription).toContain("docs/operations.md#");
    }
    const errors = alarms.find((a) => a.MetricName === "Errors")!;
    expect(errors).toMatchObject({
      Namespace: "AWS/Lambda",
      Statistic: "Sum",
      Period: config.transformErrors.periodMinutes * 60,
      Threshold: config.transformErrors.threshold,
      EvaluationPeriods: config.transformErrors.evaluationPeriods,
      DatapointsToAlarm: config.transformErrors.datapointsToAlarm,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    expect(JSON.stringify(errors.Dimensions)).toMatch(/Transform/);
    expect(errors.Threshold).toBe(stage === "production" ? 1 : 5);

    const success = alarms.find((a) => a.MetricName === "DeliveryToS3.Success")!;
    expect(success).toMatchObject({
      Namespace: "AWS/Firehose",
      Statistic: "Average",
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      EvaluationPeriods: config.deliverySuccess.evaluationPeriods,
    });
    const freshness = alarms.find((a) => a.MetricName === "DeliveryToS3.DataFreshness")!;
    expect(freshness).toMatchObject({
      Namespace: "AWS/Firehose",
      Statistic: "Maximum",
      ComparisonOperator: "GreaterThanThreshold",
    });
    // Two buffers (transformation 60 s + destination 60/300 s), twice, plus 5 minutes.
    expect(freshness.Threshold).toBe(stage === "production" ? 1020 : 540);
    for (const a of [success, freshness]) {
      expect(JSON.stringify(a.Dimensions)).toMatch(/IngestStream/);
    }
  });

  it("reuses the other stacks' alarms (iterator age, DLQ depth, rule errors, failed/timed-out executions) without duplicating them", () => {
    const own = alarmsOf(t).map((a) => `${a.Namespace}/${a.MetricName}`);
    for (const existing of [
      "AWS/Lambda/IteratorAge",
      "AWS/SQS/ApproximateNumberOfMessagesVisible",
      "AWS/States/ExecutionsFailed",
      "AWS/States/ExecutionsTimedOut",
    ]) {
      expect(own).not.toContain(existing);
    }
    const escalationAlarms = alarmsOf(synth.templates.Escalation).map((a) => a.MetricName);
    expect(escalationAlarms).toEqual(expect.arrayContaining(["ExecutionsFailed", "ExecutionsTimedOut"]));

    const status = widgets.find((w) => w.type === "alarm")!;
    const total =
      alarmsOf(t).length +
      alarmsOf(synth.templates.Ingest).length +
      alarmsOf(synth.templates.Scoring).length +
      alarmsOf(synth.templates.Escalation).length;
    expect(
      status.properties.alarms,
      "every alarm of the pipeline is on the status widget (return new alarms from their stack)",
    ).toHaveLength(total);
  });

  it("graphs only metric names their producers emit, by the shared constants", () => {
    const source = (...files: string[]) =>
      files.map((f) => readFileSync(path.join(repoRoot, f), "utf8")).join("\n");
    const producers: Array<[Record<string, string>, string]> = [
      [
        TRANSFORM_METRICS,
        source(
          "packages/functions/src/firehose/transform.ts",
          "packages/functions/src/kinesis/lake-write.ts",
          "packages/functions/src/shared/ingest-batch-report.ts",
          "packages/core/src/telemetry/ingest-batch.ts",
        ),
      ],
      [
        SCORING_METRICS,
        source(
          "packages/core/src/scoring/window-scorer.ts",
          "packages/core/src/scoring/window-scorer-api.ts",
          "packages/functions/src/kinesis/window-tick.ts",
        ),
      ],
      [
        ESCALATION_METRICS,
        source(
          "packages/functions/src/stepfunctions/open-incident.ts",
          "packages/functions/src/stepfunctions/notify.ts",
          "packages/functions/src/stepfunctions/record-event.ts",
          "packages/functions/src/stepfunctions/check-quiet.ts",
          "packages/functions/src/http/ack.ts",
        ),
      ],
    ];
    // A producer emits every name by the shared constant (packages/core/src/shared/metric-names.ts), never by a
    // literal: the name is defined once, so a rename cannot leave a graph or an alarm on a series nobody emits.
    for (const [names, text] of producers) {
      for (const [key, name] of Object.entries(names)) {
        expect(new RegExp(`_METRICS\\.${key}\\b`).test(text), name).toBe(true);
        expect(text.includes(`"${name}"`), `literal "${name}" in a producer`).toBe(false);
      }
    }
  });
});
