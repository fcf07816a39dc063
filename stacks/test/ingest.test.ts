/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation templates are untyped JSON. */
import { beforeAll, describe, expect, it } from "vitest";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { ingestRuleSql, payloadSources } from "@driftwatch/core/telemetry/payload-sources";
import {
  firehoseDataPrefix,
  firehoseErrorPrefix,
  firehoseRawPrefix,
} from "@driftwatch/functions/shared/lake-layout";
import { tables } from "@driftwatch/functions/shared/tables";
import { Ingest } from "../Ingest.ts";
import { Storage } from "../Storage.ts";
import { formatFindings, synthStacks, type SynthResult } from "./harness.ts";

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; DependsOn?: string[] }
>;

const only = (t: Template, type: string) => {
  const found = Object.entries(t.findResources(type) as Resources);
  expect(found, type).toHaveLength(1);
  return { id: found[0][0], ...found[0][1] };
};

describe.each(["test", "production"])("Ingest stack (stage %s)", (stage) => {
  let synth: SynthResult;
  let t: Template;
  let storage: Template;
  beforeAll(async () => {
    synth = await synthStacks([Storage, Ingest], { stage });
    t = synth.templates.Ingest;
    storage = synth.templates.Storage;
  });

  const storageLogicalId = (type: string, descriptionFragment?: string) => {
    const entries = Object.entries(storage.findResources(type) as Resources);
    const hit = entries.find(
      ([, r]) => !descriptionFragment || String(r.Properties.Description).includes(descriptionFragment),
    );
    if (!hit) throw new Error(`no ${type} ${descriptionFragment ?? ""}`);
    return hit[0];
  };
  const importOf = (logicalId: string) => ({
    "Fn::ImportValue": expect.stringContaining(`ExportsOutputFnGetAtt${logicalId}Arn`),
  });

  it("passes cdk-nag (AwsSolutions + HIPAA Security) with zero unsuppressed findings in both stacks", () => {
    expect(formatFindings(synth.findings)).toEqual([]);
  });

  it("creates the telemetry stream encrypted, sized and retained per stage", () => {
    const stream = only(t, "AWS::Kinesis::Stream").Properties;
    expect(stream.StreamEncryption).toEqual({ EncryptionType: "KMS", KeyId: "alias/aws/kinesis" });
    if (stage === "production") {
      expect(stream.StreamModeDetails).toEqual({ StreamMode: "ON_DEMAND" });
      expect(stream.RetentionPeriodHours).toBe(168);
    } else {
      expect(stream.StreamModeDetails).toEqual({ StreamMode: "PROVISIONED" });
      expect(stream.ShardCount).toBe(1);
      expect(stream.RetentionPeriodHours).toBeGreaterThanOrEqual(24);
    }
  });

  describe("Firehose delivery stream", () => {
    let s3: Record<string, any>;
    beforeAll(() => {
      s3 = only(t, "AWS::KinesisFirehose::DeliveryStream").Properties.ExtendedS3DestinationConfiguration;
    });

    it("writes the lake with dynamic partitioning by the Lambda's zone/date/hour keys, GZIP, ≥ 64 MiB buffers", () => {
      const lakeId = Object.keys(storage.findResources("AWS::S3::Bucket")).find((id) =>
        id.startsWith("Lake"),
      )!;
      expect(s3.BucketARN).toEqual(importOf(lakeId));
      expect(s3.DynamicPartitioningConfiguration).toEqual({
        Enabled: true,
        RetryOptions: { DurationInSeconds: expect.any(Number) },
      });
      expect(s3.Prefix).toBe(firehoseDataPrefix);
      expect(s3.ErrorOutputPrefix).toBe(firehoseErrorPrefix);
      expect(s3.CompressionFormat).toBe("GZIP");
      expect(s3.BufferingHints.SizeInMBs).toBeGreaterThanOrEqual(64);
      expect(s3.BufferingHints.IntervalInSeconds).toBe(stage === "production" ? 300 : 60);
      expect(s3.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toEqual(
        importOf(storageLogicalId("AWS::KMS::Key", "data lake")),
      );
      expect(s3.CloudWatchLoggingOptions.Enabled).toBe(true);
    });

    it("runs the transformation Lambda as its processor", () => {
      expect(s3.ProcessingConfiguration.Enabled).toBe(true);
      const [processor] = s3.ProcessingConfiguration.Processors;
      expect(processor.Type).toBe("Lambda");
      const params = Object.fromEntries(
        processor.Parameters.map((p: any) => [p.ParameterName, p.ParameterValue]),
      );
      const fn = Object.entries(t.findResources("AWS::Lambda::Function") as Resources).find(([id]) =>
        id.startsWith("Transform"),
      );
      expect(fn).toBeDefined();
      expect(params.LambdaArn).toEqual({ "Fn::GetAtt": [fn![0], "Arn"] });
      expect(Number(params.BufferSizeInMBs)).toBeLessThanOrEqual(3);
      expect(Number(params.NumberOfRetries)).toBeGreaterThan(0);
    });

    it("backs up every source record to raw/ under the raw-zone key", () => {
      expect(s3.S3BackupMode).toBe("Enabled");
      expect(s3.S3BackupConfiguration.Prefix).toBe(firehoseRawPrefix);
      expect(s3.S3BackupConfiguration.ErrorOutputPrefix).toMatch(/^raw\//);
      expect(s3.S3BackupConfiguration.CompressionFormat).toBe("GZIP");
      expect(s3.S3BackupConfiguration.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toEqual(
        importOf(storageLogicalId("AWS::KMS::Key", "raw/ zone")),
      );
    });

    it("uses the fixed-name delivery role that the raw-zone key policy names, without read or delete on the lake", () => {
      t.hasResourceProperties("AWS::IAM::Role", {
        RoleName: `${stage}-driftwatch-ingest-firehose`,
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: "firehose.amazonaws.com" } })],
        },
      });
      const policies = Object.values(t.findResources("AWS::IAM::Policy") as Resources).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes("FirehoseRole"),
      );
      expect(policies).toHaveLength(1);
      const actions = policies[0].Properties.PolicyDocument.Statement.flatMap((s: any) =>
        [].concat(s.Action),
      );
      expect(actions).toEqual(
        expect.arrayContaining(["s3:PutObject", "lambda:InvokeFunction", "kms:GenerateDataKey"]),
      );
      for (const action of actions) expect(action).not.toMatch(/^s3:(GetObject|DeleteObject)|\*$/);
    });
  });

  it("configures the transformation function: arm64, current runtime, tracing, env, log retention", () => {
    const [, fn] = Object.entries(t.findResources("AWS::Lambda::Function") as Resources).find(([id]) =>
      id.startsWith("Transform"),
    )!;
    expect(fn.Properties.Architectures).toEqual(["arm64"]);
    expect(fn.Properties.Runtime).toBe("nodejs22.x");
    expect(fn.Properties.TracingConfig).toEqual({ Mode: "Active" });
    const env = fn.Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        tables.devices.envVar,
        tables.vault.envVar,
        "VAULT_KEY_ID",
        "TOKEN_KEY_ID",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
      ]),
    );
    expect(env.POWERTOOLS_LOG_LEVEL).toBe(stage === "production" ? "INFO" : "DEBUG");
  });

  it("grants the transformation only what it uses: read devices, conditional put to the vault, vault data keys, token MAC", () => {
    const policy = Object.values(t.findResources("AWS::IAM::Policy") as Resources).find((p) =>
      JSON.stringify(p.Properties.Roles).includes("TransformServiceRole"),
    )!;
    const byResource = new Map<string, string[]>();
    for (const s of policy.Properties.PolicyDocument.Statement) {
      expect(s.Effect).toBe("Allow");
      const key = JSON.stringify(s.Resource);
      byResource.set(key, [...(byResource.get(key) ?? []), ...[].concat(s.Action)]);
    }
    const actionsOn = (logicalId: string) =>
      [...byResource.entries()]
        .filter(([resource]) => resource.includes(`ExportsOutputFnGetAtt${logicalId}Arn`))
        .flatMap(([, a]) => a)
        .sort();
    const tableId = (prefix: string) =>
      Object.keys(storage.findResources("AWS::DynamoDB::Table")).find((id) => id.startsWith(prefix))!;
    expect(actionsOn(tableId("PhiVault"))).toEqual(["dynamodb:PutItem"]);
    expect(actionsOn(storageLogicalId("AWS::KMS::Key", "HMAC"))).toEqual(["kms:GenerateMac"]);
    expect(actionsOn(storageLogicalId("AWS::KMS::Key", "PHI vault"))).toEqual([
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]);
    const deviceActions = actionsOn(tableId("Devices"));
    expect(deviceActions).toContain("dynamodb:GetItem");
    for (const action of deviceActions) expect(action).not.toMatch(/Put|Update|Delete|Write/);
  });

  describe("IoT topic rules", () => {
    let rules: Array<Resources[string]>;
    beforeAll(() => {
      rules = Object.values(t.findResources("AWS::IoT::TopicRule") as Resources);
    });

    it("has one rule per accepted payload shape plus a catch-all per owned namespace, never FROM '#'", () => {
      expect(rules).toHaveLength(payloadSources.length + 4);
      const filters = rules.map((r) => /FROM '([^']+)'/.exec(r.Properties.TopicRulePayload.Sql)?.[1]).sort();
      expect(filters).toEqual(
        [
          "IoT_TOPIC/#",
          "LifeSupportDevice/#",
          "dt/#",
          "weather/#",
          "IoT_TOPIC/recieve",
          "LifeSupportDevice/Sensor",
          "dt/+/+/telemetry",
          "weather/+/+/+/+/+",
        ].sort(),
      );
    });

    it("selects the Envelope (base64 payload, topic, receive time) with SQL 2016-03-23", () => {
      for (const source of payloadSources) {
        const rule = rules.find(
          (r) => r.Properties.TopicRulePayload.Sql === ingestRuleSql(source.topicFilter),
        );
        expect(rule, source.topicFilter).toBeDefined();
        expect(rule!.Properties.TopicRulePayload.AwsIotSqlVersion).toBe("2016-03-23");
        expect(rule!.Properties.TopicRulePayload.RuleDisabled).toBe(false);
      }
      for (const rule of rules) {
        expect(rule.Properties.TopicRulePayload.Sql).toMatch(
          /^SELECT encode\(\*, 'base64'\) AS payload, topic\(\) AS topic, timestamp\(\) AS receivedAt, newuuid\(\) AS messageId FROM /,
        );
      }
    });

    it("sends to Firehose (newline separated) and to Kinesis keyed by the device id", () => {
      for (const source of payloadSources) {
        const rule = rules.find(
          (r) => r.Properties.TopicRulePayload.Sql === ingestRuleSql(source.topicFilter),
        )!;
        const actions = rule.Properties.TopicRulePayload.Actions;
        expect(actions.find((a: any) => a.Firehose)?.Firehose.Separator).toBe("\n");
        expect(actions.find((a: any) => a.Kinesis)?.Kinesis.PartitionKey).toBe(source.partitionKeyTemplate);
      }
      const catchAll = rules.filter((r) => /FROM '[^']+\/#'/.test(r.Properties.TopicRulePayload.Sql));
      expect(catchAll).toHaveLength(4);
      for (const rule of catchAll) {
        expect(rule.Properties.TopicRulePayload.Actions).toEqual([
          expect.objectContaining({ Firehose: expect.any(Object) }),
        ]);
        // Never SST's live-Lambda topics, AWS-reserved topics, or other applications' topics.
        expect(rule.Properties.TopicRulePayload.Sql).not.toMatch(/FROM '(#|\$aws|\/sst|\+)/);
      }
    });

    it("gives every rule an error action into the encrypted rule-errors queue, and its own role", () => {
      const queue = only(t, "AWS::SQS::Queue");
      expect(queue.Properties.KmsMasterKeyId).toEqual({
        "Fn::GetAtt": [expect.stringMatching(/^RuleErrorsKey/), "Arn"],
      });
      const roles = new Set<string>();
      for (const rule of rules) {
        const errorAction = rule.Properties.TopicRulePayload.ErrorAction;
        expect(errorAction.Sqs.QueueUrl).toEqual({ Ref: queue.id });
        const roleArns = [
          errorAction.Sqs.RoleArn,
          ...rule.Properties.TopicRulePayload.Actions.map((a: any) => Object.values(a)[0] as any).map(
            (a: any) => a.RoleArn,
          ),
        ];
        const roleIds = new Set(roleArns.map((arn) => arn["Fn::GetAtt"][0]));
        expect(roleIds.size).toBe(1);
        roles.add([...roleIds][0]);
      }
      expect(roles.size).toBe(rules.length);
    });

    it("alarms on rule failures into the alarm topic", () => {
      const alarm = only(t, "AWS::CloudWatch::Alarm").Properties;
      expect(alarm).toMatchObject({
        MetricName: "ApproximateNumberOfMessagesVisible",
        Namespace: "AWS/SQS",
        Threshold: 1,
      });
      expect(alarm.AlarmActions).toEqual([
        {
          "Fn::ImportValue": expect.stringContaining(
            `ExportsOutputRef${storageLogicalId("AWS::SNS::Topic")}`,
          ),
        },
      ]);
    });
  });

  it(
    stage === "production"
      ? "retains the stream and the queue"
      : "destroys the stream and the queue on removal",
    () => {
      for (const type of ["AWS::Kinesis::Stream", "AWS::SQS::Queue", "AWS::KMS::Key"]) {
        expect(only(t, type).DeletionPolicy).toBe(stage === "production" ? "Retain" : "Delete");
      }
    },
  );
});
