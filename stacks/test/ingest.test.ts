/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation templates are untyped JSON. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { ingestRuleSql, payloadSources } from "@driftwatch/core/telemetry/payload-sources";
import {
  firehoseDataPrefix,
  firehoseErrorPrefix,
  firehoseRawPrefix,
} from "@driftwatch/functions/shared/lake-layout";
import { tables } from "@driftwatch/functions/shared/tables";
import { stageProfile, stageProfiles } from "@driftwatch/core/cost/stage-profile";
import { ingestOptions, stageConfig } from "../constructs/stage-config.ts";
import { Ingest } from "../Ingest.ts";
import { Storage } from "../Storage.ts";
import { formatFindings, synthStacks } from "./harness.ts";
import { sharedSynth, type SharedSynth } from "./shared-synth.ts";

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
  let synth: SharedSynth;
  let t: Template;
  let storage: Template;
  beforeAll(async () => {
    synth = await sharedSynth(stage);
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
    // Every stage: provisioned shards sized for its stated peak (production 1,000 records/s, others 100: one
    // shard), 24 h retention (ADR 1001).
    expect(stream.StreamModeDetails).toEqual({ StreamMode: "PROVISIONED" });
    expect(stream.ShardCount).toBe(1);
    expect(stream.RetentionPeriodHours).toBe(24);
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

  describe("lake writer (lake feed `stream`, ADR 1001)", () => {
    const writer = () =>
      Object.entries(t.findResources("AWS::Lambda::Function") as Resources).find(([id]) =>
        id.startsWith("LakeWriter"),
      )!;

    it("consumes the telemetry stream: whole batches retried until written, never bisected", () => {
      const [fnId, fn] = writer();
      expect(fn.Properties.Handler).toMatch(/lake-write-deps\.handler$/);
      expect(fn.Properties.Architectures).toEqual(["arm64"]);
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(["LAKE_BUCKET", "LAKE_KEY_ID", "RAW_KEY_ID", "VAULT_KEY_ID", "TOKEN_KEY_ID"]),
      );
      const mapping = Object.values(t.findResources("AWS::Lambda::EventSourceMapping") as Resources).find(
        (m) => JSON.stringify(m.Properties.FunctionName).includes(fnId),
      )!.Properties;
      expect(mapping.EventSourceArn).toEqual({
        "Fn::GetAtt": [only(t, "AWS::Kinesis::Stream").id, "Arn"],
      });
      expect(mapping.BisectBatchOnFunctionError).toBe(false);
      // Lambda's defaults: retry until the record leaves the stream (no attempt limit, no age limit).
      expect(mapping.MaximumRetryAttempts).toBeUndefined();
      expect(mapping.MaximumRecordAgeInSeconds).toBeUndefined();
      expect(mapping.BatchSize).toBe(10_000);
      expect(mapping.MaximumBatchingWindowInSeconds).toBe(stage === "production" ? 60 : 10);
      expect(JSON.stringify(mapping.DestinationConfig.OnFailure.Destination)).toContain("RuleErrors");
    });

    it("runs as the fixed-name role the raw-zone key names, writing only the three zones (no read, no delete)", () => {
      t.hasResourceProperties("AWS::IAM::Role", { RoleName: `${stage}-driftwatch-ingest-lake-writer` });
      const statements = Object.values(t.findResources("AWS::IAM::Policy") as Resources)
        .filter((p) => JSON.stringify(p.Properties.Roles).includes("LakeWriterRole"))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const put = statements.find((st: any) => st.Sid === "WriteLakeZones");
      expect(put.Action).toBe("s3:PutObject");
      const zones = put.Resource.map((r: any) => r["Fn::Join"][1][1]).sort();
      expect(zones).toEqual(["/errors/*", "/raw/*", "/readings/*"]);
      const actions = statements.flatMap((st: any) => [].concat(st.Action));
      for (const action of actions) expect(action).not.toMatch(/^s3:(GetObject|DeleteObject)|^s3:\*$/);
      const rawKeyPolicy =
        storage.findResources("AWS::KMS::Key")[storageLogicalId("AWS::KMS::Key", "raw/ zone")].Properties
          .KeyPolicy.Statement;
      const writerStatement = rawKeyPolicy.find((st: any) => st.Sid === "LakeWriterWritesRawZoneThroughS3");
      expect(JSON.stringify(writerStatement.Condition)).toContain(`${stage}-driftwatch-ingest-lake-writer`);
      expect(writerStatement.Action).not.toContain("kms:Decrypt");
    });

    it("alarms when the writer falls behind", () => {
      const alarm = Object.values(t.findResources("AWS::CloudWatch::Alarm") as Resources).find(
        (a) => a.Properties.MetricName === "IteratorAge",
      )!.Properties;
      expect(alarm.Threshold).toBe(15 * 60 * 1000);
    });
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

    it("sends known shapes only to Kinesis keyed by the device id (the lake writer feeds the lake from it)", () => {
      for (const source of payloadSources) {
        const rule = rules.find(
          (r) => r.Properties.TopicRulePayload.Sql === ingestRuleSql(source.topicFilter),
        )!;
        const actions = rule.Properties.TopicRulePayload.Actions;
        expect(actions).toHaveLength(1);
        expect(actions[0].Kinesis.PartitionKey).toBe(source.partitionKeyTemplate);
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
      const alarm = Object.values(t.findResources("AWS::CloudWatch::Alarm") as Resources).find(
        (a) => a.Properties.Namespace === "AWS/SQS",
      )!.Properties;
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
      ? "lets devices publish only through Basic Ingest, to the rules by name (no messaging charge)"
      : "lets devices publish only to the rules' broker topics (watchable in the MQTT test client)",
    () => {
      const policy = only(t, "AWS::IoT::Policy").Properties;
      const [connect, publish] = policy.PolicyDocument.Statement;
      expect(connect.Action).toBe("iot:Connect");
      expect(JSON.stringify(connect.Resource)).toContain(":client/${iot:Connection.Thing.ThingName}");
      expect(publish.Action).toBe("iot:Publish");
      const rules = Object.values(t.findResources("AWS::IoT::TopicRule") as Resources);
      const topics = publish.Resource.map((r: any) => {
        const parts: unknown[] = r["Fn::Join"][1];
        return String(parts[parts.length - 1]).replace(/^:topic\//, "");
      });
      const expected = payloadSources.map((source) => {
        const rule = rules.find(
          (r) => r.Properties.TopicRulePayload.Sql === ingestRuleSql(source.topicFilter),
        )!;
        const filter = source.topicFilter.replace(/[+#]/g, "*");
        return stage === "production" ? `$aws/rules/${rule.Properties.RuleName}/${filter}` : filter;
      });
      expect(topics).toEqual(expected);
      expect(topics.join(" ")).not.toContain("unmatched");
      const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(String(outputs.DeviceTopics!.Value)).toContain(
        stage === "production"
          ? `canonical=$aws/rules/driftwatch_production_canonical/dt/+/+/telemetry`
          : "canonical=dt/+/+/telemetry",
      );
    },
  );

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

describe("per-stage cost options (config/ingest.<stage>.json)", () => {
  let dir: string;
  const previous = process.env.DRIFTWATCH_CONFIG_DIR;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "driftwatch-config-"));
    process.env.DRIFTWATCH_CONFIG_DIR = dir;
    writeFileSync(
      path.join(dir, "ingest.lean.json"),
      JSON.stringify({
        basicIngest: true,
        lakeFeed: "firehose",
        kinesis: { mode: "provisioned", peakRecordsPerSecond: 2500, retentionHours: 24 },
      }),
    );
    writeFileSync(path.join(dir, "ingest.typo.json"), JSON.stringify({ basicIngset: true }));
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.DRIFTWATCH_CONFIG_DIR;
    else process.env.DRIFTWATCH_CONFIG_DIR = previous;
    rmSync(dir, { recursive: true, force: true });
  });

  it("sizes a provisioned stream from the stated peak: 1,000 records/s and 1 MiB/s per shard", () => {
    const shards = (peakRecordsPerSecond: number, recordBytes?: number) =>
      stageConfig("x", { kinesis: { mode: "provisioned", peakRecordsPerSecond, recordBytes } }).kinesis
        .shardCount;
    expect(shards(100)).toBe(1);
    expect(shards(1000)).toBe(1);
    expect(shards(1001)).toBe(2);
    expect(shards(5000)).toBe(5);
    expect(shards(500, 4096)).toBe(2); // 2 MiB/s
    expect(stageConfig("x", { kinesis: { mode: "on-demand" } }).kinesis.shardCount).toBe(0);
    expect(stageConfig("production", {})).toMatchObject({
      ingest: { basicIngest: true, lakeFeed: "stream" },
      kinesis: { mode: "provisioned", shardCount: 1, peakRecordsPerSecond: 1000, retentionHours: 24 },
    });
    expect(stageConfig("production", { kinesis: { mode: "on-demand" } }).kinesis.shardCount).toBe(0);
    expect(stageConfig("me", {})).toMatchObject({
      ingest: { basicIngest: false, lakeFeed: "stream" },
      kinesis: { mode: "provisioned", shardCount: 1, retentionHours: 24 },
    });
  });

  it("is what the cost model's profiles say: production, a personal stage, and the former Firehose feed", () => {
    const production = stageProfile(stageProfiles.production);
    const config = stageConfig("production", {});
    expect(production.ingest).toMatchObject(config.ingest);
    expect(production.kinesis).toMatchObject({
      mode: config.kinesis.mode,
      retentionHours: config.kinesis.retentionHours,
    });
    expect(production.lakeWriter).toMatchObject({
      batchSize: config.lake.writerBatchSize,
      batchingWindowSeconds: config.lake.writerBatchingSeconds,
    });
    expect(production.firehose.bufferSeconds).toBe(config.firehose.bufferSeconds);
    const dev = stageProfile(stageProfiles.dev);
    const personal = stageConfig("alice", {});
    expect(dev.ingest).toMatchObject(personal.ingest);
    expect(dev.kinesis).toMatchObject({
      mode: personal.kinesis.mode,
      shardCount: personal.kinesis.shardCount,
      retentionHours: personal.kinesis.retentionHours,
    });
    expect(dev.lakeWriter.batchingWindowSeconds).toBe(personal.lake.writerBatchingSeconds);
    const former = stageProfile(stageProfiles.firehose);
    const formerConfig = stageConfig("production", {
      lakeFeed: "firehose",
      kinesis: { mode: "on-demand", retentionHours: 168 },
    });
    expect(former.ingest).toMatchObject(formerConfig.ingest);
    expect(former.kinesis).toMatchObject({ mode: formerConfig.kinesis.mode, retentionHours: 168 });
  });

  it("refuses a config file with an unknown field", () => {
    expect(() => ingestOptions("typo")).toThrow(/ingest\.typo\.json.*basicIngset/);
  });

  it("synthesizes a stage with Basic Ingest, a provisioned stream sized for its peak and the Firehose feed", async () => {
    const synth = await synthStacks([Storage, Ingest], { stage: "lean", skipNag: true });
    const t = synth.templates.Ingest;
    const stream = only(t, "AWS::Kinesis::Stream").Properties;
    expect(stream.StreamModeDetails).toEqual({ StreamMode: "PROVISIONED" });
    expect(stream.ShardCount).toBe(3);
    expect(stream.RetentionPeriodHours).toBe(24);
    const publish = only(t, "AWS::IoT::Policy").Properties.PolicyDocument.Statement[1];
    expect(JSON.stringify(publish.Resource)).toContain(
      ":topic/$aws/rules/driftwatch_lean_canonical/dt/*/*/telemetry",
    );
    const canonical = Object.values(t.findResources("AWS::IoT::TopicRule") as Resources).find(
      (r) => r.Properties.RuleName === "driftwatch_lean_canonical",
    );
    // The rule itself is unchanged: same SQL, so broker publishes on the same topics still reach it.
    expect(canonical?.Properties.TopicRulePayload.Sql).toBe(ingestRuleSql("dt/+/+/telemetry"));
    // Lake feed `firehose`: the rule also puts to Firehose (newline separated); no lake writer.
    const actions = canonical!.Properties.TopicRulePayload.Actions;
    expect(actions.find((a: any) => a.Firehose)?.Firehose.Separator).toBe("\n");
    expect(actions.find((a: any) => a.Kinesis)?.Kinesis.PartitionKey).toBe("${topic(3)}");
    expect(
      Object.keys(t.findResources("AWS::Lambda::Function")).some((id) => id.startsWith("LakeWriter")),
    ).toBe(false);
  }, 120_000);
});
