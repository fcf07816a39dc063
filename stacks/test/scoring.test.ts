import { beforeAll, describe, expect, it } from "vitest";
import type { Template } from "aws-cdk-lib/assertions";
import { firehoseScoresPrefix } from "@driftwatch/functions/shared/lake-layout";
import { tables } from "@driftwatch/functions/shared/tables";
import { CHECKPOINT_PREFIX, WINDOW_TICK_HANDLER } from "../Scoring.ts";
import { formatFindings } from "./harness.ts";
import { sharedSynth, type SharedSynth } from "./shared-synth.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Resources = Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string }>;

const resources = (t: Template, type: string) => Object.entries(t.findResources(type) as Resources);
const only = (t: Template, type: string) => {
  const found = resources(t, type);
  expect(found, type).toHaveLength(1);
  return { id: found[0][0], ...found[0][1] };
};

describe.each(["test", "production"])("Scoring stack (stage %s)", (stage) => {
  let synth: SharedSynth;
  let t: Template;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let scoreFn: { id: string; Properties: Record<string, any> };
  beforeAll(async () => {
    synth = await sharedSynth(stage);
    t = synth.templates.Scoring;
    const fns = resources(t, "AWS::Lambda::Function").filter(([, r]) =>
      String(r.Properties.Description ?? "").startsWith("Scoring: tumbling"),
    );
    expect(fns).toHaveLength(1);
    scoreFn = { id: fns[0][0], ...fns[0][1] };
  });

  it("passes cdk-nag (AwsSolutions + HIPAA Security) with zero unsuppressed findings", () => {
    expect(formatFindings(synth.findings)).toEqual([]);
  });

  it("maps the telemetry stream with a tumbling window, partial batch failures, bisection, bounded retries and an SQS on-failure destination", () => {
    const esm = only(t, "AWS::Lambda::EventSourceMapping").Properties;
    expect(esm.FunctionName).toEqual({ Ref: scoreFn.id });
    expect(JSON.stringify(esm.EventSourceArn)).toContain("Telemetry");
    expect(esm.TumblingWindowInSeconds).toBe(60);
    expect(esm.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(esm.BisectBatchOnFunctionError).toBe(true);
    expect(esm.ParallelizationFactor).toBe(1);
    expect(esm.MaximumRetryAttempts).toBeGreaterThanOrEqual(1);
    expect(esm.MaximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(esm.MaximumRecordAgeInSeconds).toBeGreaterThanOrEqual(60);
    expect(esm.MaximumRecordAgeInSeconds).toBeLessThanOrEqual(stage === "production" ? 6 * 3600 : 3600);
    expect(esm.BatchSize).toBe(1000);
    expect(esm.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(1);
    expect(esm.StartingPosition).toBe("TRIM_HORIZON");
    const queue = only(t, "AWS::SQS::Queue");
    expect(esm.DestinationConfig.OnFailure.Destination).toEqual({ "Fn::GetAtt": [queue.id, "Arn"] });
    expect(queue.Properties.KmsMasterKeyId).toBeDefined();
  });

  it("runs the score handler on arm64 with the configuration it validates", () => {
    const p = scoreFn.Properties;
    expect(p.Handler).toMatch(/score\.handler$/);
    expect(p.Architectures).toEqual(["arm64"]);
    expect(p.TracingConfig).toEqual({ Mode: "Active" });
    const env = p.Environment.Variables;
    for (const name of [
      tables.devices.envVar,
      tables.metrics.envVar,
      tables.thresholds.envVar,
      "TOKEN_KEY_ID",
      "CHECKPOINT_BUCKET",
      "ESCALATION_STATE_MACHINE_ARN",
      "SCORES_DELIVERY_STREAM",
    ]) {
      expect(env[name], name).toBeDefined();
    }
    expect(env.WINDOW_SECONDS).toBe("60");
    expect(env.CHECKPOINT_PREFIX).toBe(CHECKPOINT_PREFIX);
    expect(JSON.stringify(env.ESCALATION_STATE_MACHINE_ARN)).toContain(
      `:stateMachine:${stage}-driftwatch-escalation`,
    );
  });

  it("stores aggregates in a metrics table with TTL and thresholds in their own table, PITR on, retained in production", () => {
    const tablesFound = resources(t, "AWS::DynamoDB::Table");
    const metrics = tablesFound.find(([id]) => id.startsWith("Metrics"))![1];
    const thresholds = tablesFound.find(([id]) => id.startsWith("Thresholds"))![1];
    expect(metrics.Properties.KeySchema).toEqual([
      { AttributeName: "deviceId", KeyType: "HASH" },
      { AttributeName: "part", KeyType: "RANGE" },
    ]);
    expect(metrics.Properties.TimeToLiveSpecification).toEqual({ AttributeName: "expiresAt", Enabled: true });
    expect(thresholds.Properties.KeySchema).toEqual([{ AttributeName: "scope", KeyType: "HASH" }]);
    for (const table of [metrics, thresholds]) {
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.DeletionPolicy).toBe(stage === "production" ? "Retain" : "Delete");
    }
  });

  it("archives scored records through Firehose into lake scores/ (GZIP) with a least-privilege role", () => {
    const s3 = only(t, "AWS::KinesisFirehose::DeliveryStream").Properties.ExtendedS3DestinationConfiguration;
    expect(s3.Prefix).toBe(firehoseScoresPrefix);
    expect(s3.ErrorOutputPrefix).toMatch(/^errors\/firehose-scores\//);
    expect(s3.CompressionFormat).toBe("GZIP");
    expect(s3.EncryptionConfiguration.KMSEncryptionConfig).toBeDefined();
    const policies = resources(t, "AWS::IAM::Policy").map(([, r]) =>
      JSON.stringify(r.Properties.PolicyDocument),
    );
    const firehosePolicy = policies.find((p) => p.includes("WriteScores"))!;
    expect(firehosePolicy).not.toContain("s3:DeleteObject");
    expect(firehosePolicy).toContain("/scores/*");
  });

  it("grants the function only what it uses: checkpoint prefix, archive stream, StartExecution on the escalation machine", () => {
    const policy = resources(t, "AWS::IAM::Policy")
      .map(([, r]) => r.Properties)
      .find((p) => JSON.stringify(p.Roles).includes(scoreFn.Properties.Role["Fn::GetAtt"][0]))!;
    const statements = policy.PolicyDocument.Statement as {
      Action: string | string[];
      Resource: unknown;
      Sid?: string;
    }[];
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toContain("states:StartExecution");
    expect(actions).toContain("firehose:PutRecordBatch");
    expect(actions).not.toContain("s3:DeleteObject");
    expect(actions.some((a) => a === "*" || a.endsWith(":*"))).toBe(false);
    const checkpoint = statements.find((s) => s.Sid === "ModelCheckpoints")!;
    expect(JSON.stringify(checkpoint.Resource)).toContain(`/${CHECKPOINT_PREFIX}*`);
  });

  it("lets the scorer resolve silence incidents on return: incidents table (no Scan/Put) and SendTaskSuccess", () => {
    expect(JSON.stringify(scoreFn.Properties.Environment.Variables[tables.incidents.envVar])).toContain(
      "Incidents",
    );
    const policy = resources(t, "AWS::IAM::Policy")
      .map(([, r]) => r.Properties)
      .find((p) => JSON.stringify(p.Roles).includes(scoreFn.Properties.Role["Fn::GetAtt"][0]))!;
    const statements = policy.PolicyDocument.Statement as {
      Action: string[];
      Resource: unknown;
      Sid?: string;
    }[];
    const incidents = statements.find((s) => s.Sid === "ResolveSilenceIncidents")!;
    expect([...incidents.Action].sort()).toEqual([
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
    ]);
    expect(JSON.stringify(incidents.Resource)).toContain("Incidents");
    const ackWait = statements.find((s) => s.Sid === "EndAckWaitOnReturn")!;
    expect(ackWait.Action).toBe("states:SendTaskSuccess");
    expect(JSON.stringify(ackWait.Resource)).toContain(`:stateMachine:${stage}-driftwatch-escalation`);
  });

  it("puts a window tick into every telemetry shard each minute: schedule, handler, and only ListShards/PutRecords on the stream", () => {
    const tick = resources(t, "AWS::Lambda::Function").find(([, r]) =>
      String(r.Properties.Description ?? "").startsWith("Scoring: window ticks"),
    )!;
    expect(tick).toBeDefined();
    const [tickId, tickFn] = tick;
    expect(tickFn.Properties.Handler).toBe(WINDOW_TICK_HANDLER);
    expect(JSON.stringify(tickFn.Properties.Environment.Variables.TELEMETRY_STREAM_ARN)).toContain(
      "Telemetry",
    );
    const rule = only(t, "AWS::Events::Rule").Properties;
    expect(rule.ScheduleExpression).toBe("rate(1 minute)");
    expect(rule.State ?? "ENABLED").toBe("ENABLED");
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0].Arn).toEqual({ "Fn::GetAtt": [tickId, "Arn"] });
    expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 });
    // EventBridge may invoke it; nothing else is granted on it.
    const permission = resources(t, "AWS::Lambda::Permission").find(([, r]) =>
      JSON.stringify(r.Properties.FunctionName).includes(tickId),
    )![1].Properties;
    expect(permission.Principal).toBe("events.amazonaws.com");
    const policy = resources(t, "AWS::IAM::Policy")
      .map(([, r]) => r.Properties)
      .find((p) => JSON.stringify(p.Roles).includes(tickFn.Properties.Role["Fn::GetAtt"][0]))!;
    const statements = policy.PolicyDocument.Statement as {
      Action: string | string[];
      Resource: unknown;
      Sid?: string;
    }[];
    const put = statements.find((s) => s.Sid === "PutWindowTicks")!;
    expect(put.Action).toEqual(["kinesis:ListShards", "kinesis:PutRecords"]);
    expect(JSON.stringify(put.Resource)).toContain("Telemetry");
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(
      actions.filter((a) => a.startsWith("kinesis:") || a.startsWith("dynamodb:") || a.startsWith("s3:")),
    ).toEqual(["kinesis:ListShards", "kinesis:PutRecords"]);
  });

  it("alarms on iterator age and on the on-failure queue depth", () => {
    const alarms = resources(t, "AWS::CloudWatch::Alarm").map(([, r]) => r.Properties);
    const iterator = alarms.find((a) => a.MetricName === "IteratorAge")!;
    expect(iterator.Namespace).toBe("AWS/Lambda");
    expect(iterator.Threshold).toBe((2 * 60 + 120) * 1000);
    expect(iterator.AlarmActions).toHaveLength(1);
    const dlq = alarms.find((a) => a.MetricName === "ApproximateNumberOfMessagesVisible")!;
    expect(dlq.Namespace).toBe("AWS/SQS");
    expect(dlq.Threshold).toBe(1);
    expect(dlq.AlarmActions).toHaveLength(1);
  });
});
