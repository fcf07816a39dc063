import {
  Aws,
  Duration,
  Size,
  Stack,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_iam as iam,
  aws_iot as iot,
  aws_kinesis as kinesis,
  aws_kinesisfirehose as firehose,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_logs as logs,
  aws_sqs as sqs,
} from "aws-cdk-lib";
import { Function as SstFunction, use, type StackContext } from "sst/constructs";
import { basicIngestTopic, ingestRuleName } from "@driftwatch/core/telemetry/basic-ingest";
import { ingestRuleSql, payloadSources } from "@driftwatch/core/telemetry/payload-sources";
import {
  firehoseDataPrefix,
  firehoseErrorPrefix,
  firehoseRawPrefix,
} from "@driftwatch/functions/shared/lake-layout";
import { tables } from "@driftwatch/functions/shared/tables";
import { isProductionStage } from "./constructs/app-defaults.ts";
import { firehoseDeliveryStatements } from "./constructs/firehose-delivery-policy.ts";
import { alarmName, firehoseDeliveryRoleName, lakeWriterRoleName } from "./constructs/names.ts";
import { arnRef, functionBaselineSuppressions, suppress } from "./constructs/nag.ts";
import { stageConfig } from "./constructs/stage-config.ts";
import { ownedNamespaces, unmatchedTopicSql } from "./constructs/topic-rule-sql.ts";
import { Storage } from "./Storage.ts";

/** The Firehose transformation handler (written in packages/functions). */
export const TRANSFORM_HANDLER = "packages/functions/src/firehose/transform.handler";

/** The stream-fed lake writer (lake feed `stream`, ADR 1001). */
export const LAKE_WRITE_HANDLER = "packages/functions/src/kinesis/lake-write-deps.handler";

/** Where Firehose writes backup records it could not deliver (expressions in a prefix require an error prefix). */
export const firehoseRawErrorPrefix =
  "raw/firehose-errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/";

/**
 * Ingest: IoT topic rules → Firehose `ingest` (transformation Lambda, dynamic partitioning into the lake, source
 * record backup into raw/ under the raw-zone key) and the Kinesis `telemetry` stream (consumed by Scoring).
 * Every rule has an error action into an encrypted SQS queue, with an alarm, so no failure is silent.
 */
export function Ingest({ app, stack }: StackContext) {
  const storage = use(Storage);
  const config = stageConfig(app.stage);
  const production = isProductionStage(app.stage);
  // Lake feed `stream` (ADR 1001): the rules of known shapes put only to the telemetry stream and the lake writer
  // fills the lake from it; only the catch-all rules (no partition key: unknown topics) keep the Firehose action.
  const streamFed = config.ingest.lakeFeed === "stream";
  const toFirehose = (spec: { partitionKey?: string }) => !streamFed || spec.partitionKey === undefined;

  // ── Kinesis `telemetry` ────────────────────────────────────────────────────────────────────────────────────
  const telemetryStream = new kinesis.Stream(stack, "Telemetry", {
    streamMode:
      config.kinesis.mode === "on-demand" ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
    shardCount: config.kinesis.mode === "on-demand" ? undefined : config.kinesis.shardCount,
    retentionPeriod: Duration.hours(config.kinesis.retentionHours),
    encryption: kinesis.StreamEncryption.MANAGED,
  });

  // What core's ingest batch logic needs, wherever it runs (the Firehose transformation, the lake writer): the
  // registry, the PHI vault and its key, the token key.
  const ingestBatchEnvironment = {
    [tables.devices.envVar]: storage.devicesTable.tableName,
    [tables.vault.envVar]: storage.vaultTable.tableName,
    VAULT_KEY_ID: storage.vaultKey.keyArn,
    TOKEN_KEY_ID: storage.tokenKey.keyArn,
  };
  function grantIngestBatch(fn: SstFunction): void {
    // Registry lookups only (cached by device id): no Query/Scan, no writes.
    storage.devicesTable.grant(fn, "dynamodb:GetItem", "dynamodb:BatchGetItem");
    // The vault is written idempotently (conditional PutItem) and never read by the ingest path.
    storage.vaultTable.grant(fn, "dynamodb:PutItem");
    // The vault key is both the table's SSE key (DynamoDB calls KMS on the caller's behalf: Encrypt/Decrypt/
    // GenerateDataKey/DescribeKey) and the envelope key of PHI values (GenerateDataKey with an encryption context).
    storage.vaultKey.grant(fn, "kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey");
    storage.tokenKey.grant(fn, "kms:GenerateMac");
  }

  // ── Transformation Lambda ─────────────────────────────────────────────────────────────────────────────────
  const transform = new SstFunction(stack, "Transform", {
    handler: TRANSFORM_HANDLER,
    description: "Firehose transformation: validate, normalize, de-identify, enrich telemetry",
    // Firehose waits up to 5 minutes for a transformation invocation; a 1 MiB batch takes well under a minute.
    timeout: "2 minutes",
    memorySize: "1024 MB",
    environment: ingestBatchEnvironment,
  });
  grantIngestBatch(transform);
  suppress(
    transform,
    functionBaselineSuppressions({
      dlqReason:
        "Invoked synchronously by Firehose, which retries failed invocations and then writes the records to the error prefix; an async DLQ never applies.",
      concurrencyReason:
        "Firehose bounds concurrent transformation invocations itself; reserved concurrency would only add a failure mode.",
    }),
  );

  // ── Firehose `ingest` ─────────────────────────────────────────────────────────────────────────────────────
  const firehoseLogs = new logs.LogGroup(stack, "FirehoseLogs", {
    encryptionKey: storage.logsKey,
    retention: config.logRetentionDays as logs.RetentionDays,
  });
  const deliveryRole = new iam.Role(stack, "FirehoseRole", {
    // A fixed name: the raw-zone key policy (Storage) names this role.
    roleName: firehoseDeliveryRoleName(app),
    assumedBy: new iam.ServicePrincipal("firehose.amazonaws.com", {
      conditions: { StringEquals: { "aws:SourceAccount": Stack.of(stack).account } },
    }),
    description: "Firehose ingest: invokes the transformation, writes the lake and the raw/ backup",
  });
  const buffering = {
    bufferingInterval: Duration.seconds(config.firehose.bufferSeconds),
    bufferingSize: Size.mebibytes(config.firehose.bufferMiB),
    compression: firehose.Compression.GZIP,
  };
  const deliveryStream = new firehose.DeliveryStream(stack, "IngestStream", {
    encryption: firehose.StreamEncryption.awsOwnedKey(),
    role: deliveryRole.withoutPolicyUpdates(),
    destination: new firehose.S3Bucket(storage.lake, {
      role: deliveryRole.withoutPolicyUpdates(),
      dataOutputPrefix: firehoseDataPrefix,
      errorOutputPrefix: firehoseErrorPrefix,
      encryptionKey: storage.lakeKey,
      ...buffering,
      loggingConfig: new firehose.EnableLogging(firehoseLogs),
      processor: new firehose.LambdaFunctionProcessor(transform, {
        bufferSize: Size.mebibytes(config.firehose.processorBufferMiB),
        bufferInterval: Duration.seconds(config.firehose.processorBufferSeconds),
        retries: config.firehose.processorRetries,
      }),
      s3Backup: {
        mode: firehose.BackupMode.ALL,
        bucket: storage.lake,
        dataOutputPrefix: firehoseRawPrefix,
        errorOutputPrefix: firehoseRawErrorPrefix,
        encryptionKey: storage.rawKey,
        compression: firehose.Compression.GZIP,
        bufferingInterval: Duration.seconds(config.firehose.bufferSeconds),
        bufferingSize: Size.mebibytes(config.firehose.bufferMiB),
        loggingConfig: new firehose.EnableLogging(firehoseLogs),
      },
    }),
  });
  // What the L2 lacks: dynamic partitioning by the Lambda's partition keys (zone/date/hour).
  const cfnDeliveryStream = deliveryStream.node.defaultChild as firehose.CfnDeliveryStream;
  cfnDeliveryStream.addPropertyOverride(
    "ExtendedS3DestinationConfiguration.DynamicPartitioningConfiguration",
    {
      Enabled: true,
      RetryOptions: { DurationInSeconds: config.firehose.partitioningRetrySeconds },
    },
  );
  // Least privilege, written out: the L2's own grants (bucket read/write incl. delete) are ignored via
  // `withoutPolicyUpdates()` on the role given to it. Firehose never reads or deletes lake objects.
  const deliveryPolicy = new iam.Policy(stack, "FirehosePolicy", {
    roles: [deliveryRole],
    statements: firehoseDeliveryStatements(stack, {
      bucket: storage.lake,
      objects: { sid: "WriteLakeObjects", patterns: ["*"] },
      keys: { sid: "EncryptLakeAndRawZone", keys: [storage.lakeKey, storage.rawKey] },
      transform,
      logGroup: firehoseLogs,
    }),
  });
  cfnDeliveryStream.node.addDependency(deliveryPolicy);
  suppress(deliveryPolicy, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "Firehose writes objects under dynamic, time-based prefixes of the lake bucket (readings/, errors/, raw/), so the object resource is the bucket's `/*`; actions are PutObject/AbortMultipartUpload only.",
      appliesTo: [arnRef(storage.lake, "/*")],
    },
    {
      id: "HIPAA.Security-IAMNoInlinePolicy",
      reason:
        "The delivery role's one policy, written out least-privilege for this stream's bucket, keys, function and log group.",
    },
  ]);

  // ── IoT rule failures: encrypted queue (messages carry the original payload) + alarm ───────────────────────
  const ruleErrorsKey = new kms.Key(stack, "RuleErrorsKey", {
    description: `${app.stage} driftwatch: IoT rule error action queue (messages carry original payloads)`,
    enableKeyRotation: true,
  });
  const ruleErrors = new sqs.Queue(stack, "RuleErrors", {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: ruleErrorsKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  // Break-glass may inspect and redrive failed messages (they hold original payloads). The policy lives in this
  // stack so Storage (deployed first) does not depend on Ingest.
  const breakGlassRuleErrors = new iam.Policy(stack, "BreakGlassRuleErrorsPolicy", {
    roles: [storage.breakGlassRole],
    statements: [
      new iam.PolicyStatement({
        actions: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
        ],
        resources: [ruleErrors.queueArn],
      }),
      new iam.PolicyStatement({ actions: ["kms:Decrypt"], resources: [ruleErrorsKey.keyArn] }),
    ],
  });
  suppress(breakGlassRuleErrors, [
    {
      id: "HIPAA.Security-IAMNoInlinePolicy",
      reason: "Scoped to the one rule-errors queue and its key, attached to the break-glass role only.",
    },
  ]);
  suppress(ruleErrors, [
    {
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the terminal sink of the IoT rules' error actions (a dead-letter destination); it has no consumer to fail.",
    },
  ]);
  const ruleErrorsAlarm = new cloudwatch.Alarm(stack, "RuleErrorsAlarm", {
    alarmName: alarmName(app, "RuleErrorsAlarm"),
    alarmDescription: "An IoT topic rule action failed (message kept in the RuleErrors queue)",
    metric: ruleErrors.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: "Maximum",
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  ruleErrorsAlarm.addAlarmAction(new cloudwatchActions.SnsAction(storage.alarmTopic));

  // ── Lake writer (lake feed `stream`) ───────────────────────────────────────────────────────────────────────────
  const lakeWriter = streamFed ? streamLakeWriter() : undefined;
  function streamLakeWriter() {
    // A fixed name: the raw-zone key policy (Storage) names this role (it writes raw/ under the raw key).
    const role = new iam.Role(stack, "LakeWriterRole", {
      roleName: lakeWriterRoleName(app),
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaBasicExecutionRole"),
      ],
      description: "Lake writer: reads the telemetry stream, writes readings/, errors/ and raw/ of the lake",
    });
    const fn = new SstFunction(stack, "LakeWriter", {
      handler: LAKE_WRITE_HANDLER,
      description:
        "Lake writer: telemetry stream → validate, de-identify, enrich → lake readings/, errors/, raw/ (ADR 1001)",
      role,
      // A batch is at most 6 MB (Lambda's payload limit): well under a minute at this size.
      timeout: "2 minutes",
      memorySize: "1024 MB",
      environment: {
        ...ingestBatchEnvironment,
        LAKE_BUCKET: storage.lake.bucketName,
        LAKE_KEY_ID: storage.lakeKey.keyArn,
        RAW_KEY_ID: storage.rawKey.keyArn,
      },
    });
    // The transformation's grants (registry lookups, idempotent vault writes, the vault and token keys)…
    grantIngestBatch(fn);
    // …and the lake's three zones, write only (S3 calls KMS for SSE-KMS puts; bucket keys keep the calls few).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "WriteLakeZones",
        actions: ["s3:PutObject"],
        resources: ["readings/*", "errors/*", "raw/*"].map((prefix) => storage.lake.arnForObjects(prefix)),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "EncryptLakeAndRawZone",
        actions: ["kms:GenerateDataKey"],
        resources: [storage.lakeKey.keyArn, storage.rawKey.keyArn],
      }),
    );
    fn.addEventSource(
      new sources.KinesisEventSource(telemetryStream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: config.lake.writerBatchSize,
        maxBatchingWindow: Duration.seconds(config.lake.writerBatchingSeconds),
        // Retried whole until written (object names come from the batch's sequence range: a retry overwrites);
        // bisecting would rename the halves and duplicate what the failed attempt had written.
        // Retry attempts and record age are left at Lambda's defaults (-1: until the stream expires the record).
        bisectBatchOnError: false,
        parallelizationFactor: 1,
        onFailure: new sources.SqsDlq(ruleErrors),
      }),
    );
    const fnSuppressions = [
      ...functionBaselineSuppressions({
        dlqReason:
          "Invoked synchronously by a Kinesis event source mapping that retries each batch until it is written; batches that age out of the stream go to the encrypted RuleErrors queue (alarmed).",
        concurrencyReason:
          "One invocation per shard (parallelization factor 1); reserving concurrency would only add a failure mode.",
      }),
      {
        id: "AwsSolutions-IAM5",
        reason:
          "The writer puts objects under the dynamic date/hour keys of its three zones, so object resources end in `/*`; PutObject only.",
        appliesTo: ["readings/*", "errors/*", "raw/*"].map((prefix) => arnRef(storage.lake, `/${prefix}`)),
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "CDK's grant for the SQS on-failure destination (SendMessage to a KMS-encrypted queue) uses kms:GenerateDataKey*/ReEncrypt*, scoped to the one queue key.",
        appliesTo: ["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"],
      },
    ];
    // The role is the stack's own (a fixed name), not the function's child: it carries the same reasons.
    suppress(fn, fnSuppressions);
    suppress(role, fnSuppressions);
    const iteratorAge = new cloudwatch.Alarm(stack, "LakeWriterIteratorAgeAlarm", {
      alarmName: alarmName(app, "LakeWriterIteratorAgeAlarm"),
      alarmDescription: `The lake writer is falling behind: the oldest unwritten telemetry record is older than 15 minutes (records leave the stream after ${config.kinesis.retentionHours} h)`,
      metric: fn.metric("IteratorAge", { period: Duration.minutes(1), statistic: "Maximum" }),
      threshold: 15 * 60 * 1000,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    iteratorAge.addAlarmAction(new cloudwatchActions.SnsAction(storage.alarmTopic));
    return { fn, role, iteratorAge };
  }

  // ── IoT topic rules ───────────────────────────────────────────────────────────────────────────────────────
  const rules: Record<string, iot.CfnTopicRule> = {};
  const ruleSpecs = [
    ...payloadSources.map((source) => ({
      name: source.source,
      sql: ingestRuleSql(source.topicFilter),
      partitionKey: source.partitionKeyTemplate as string | undefined,
    })),
    // Topics of Driftwatch's own namespaces that no shape accepts: Firehose only, so the transformation records
    // them under errors/ (unknown topic). Other applications' topics, `$aws/…` and SST's `/sst/…` are never read.
    ...ownedNamespaces(payloadSources.map((s) => s.topicFilter)).map((namespace) => ({
      name: `unmatched_${namespace}`,
      sql: unmatchedTopicSql(
        namespace,
        payloadSources.map((s) => s.topicFilter),
      ),
      partitionKey: undefined as string | undefined,
    })),
  ];
  for (const spec of ruleSpecs) {
    const id = pascal(spec.name);
    const role = new iam.Role(stack, `${id}RuleRole`, {
      assumedBy: new iam.ServicePrincipal("iot.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Stack.of(stack).account } },
      }),
      description: `IoT rule ${spec.name}: put to ${[toFirehose(spec) && "the ingest Firehose", spec.partitionKey && "the telemetry stream"].filter(Boolean).join(" and ")}, report failures`,
    });
    const policy = new iam.Policy(stack, `${id}RulePolicy`, {
      roles: [role],
      statements: [
        ...(toFirehose(spec)
          ? [
              new iam.PolicyStatement({
                actions: ["firehose:PutRecord", "firehose:PutRecordBatch"],
                resources: [deliveryStream.deliveryStreamArn],
              }),
            ]
          : []),
        ...(spec.partitionKey
          ? [
              new iam.PolicyStatement({
                actions: ["kinesis:PutRecord"],
                resources: [telemetryStream.streamArn],
              }),
            ]
          : []),
        new iam.PolicyStatement({ actions: ["sqs:SendMessage"], resources: [ruleErrors.queueArn] }),
        new iam.PolicyStatement({
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: [ruleErrorsKey.keyArn],
        }),
      ],
    });
    suppress(policy, [
      {
        id: "HIPAA.Security-IAMNoInlinePolicy",
        reason:
          "One least-privilege policy per IoT rule role, naming only this rule's stream, queue and key.",
      },
    ]);
    const actions: iot.CfnTopicRule.ActionProperty[] = toFirehose(spec)
      ? [
          {
            firehose: {
              deliveryStreamName: deliveryStream.deliveryStreamName,
              roleArn: role.roleArn,
              separator: "\n",
              batchMode: false,
            },
          },
        ]
      : [];
    if (spec.partitionKey) {
      actions.push({
        kinesis: {
          streamName: telemetryStream.streamName,
          partitionKey: spec.partitionKey,
          roleArn: role.roleArn,
        },
      });
    }
    const rule = new iot.CfnTopicRule(stack, `${id}Rule`, {
      ruleName: ingestRuleName(app.stage, spec.name),
      topicRulePayload: {
        description: `driftwatch ${app.stage}: ${spec.name} telemetry → ${[toFirehose(spec) && "Firehose ingest", spec.partitionKey && "Kinesis telemetry"].filter(Boolean).join(" + ")}`,
        sql: spec.sql,
        awsIotSqlVersion: "2016-03-23",
        ruleDisabled: false,
        actions,
        errorAction: { sqs: { queueUrl: ruleErrors.queueUrl, roleArn: role.roleArn, useBase64: false } },
      },
    });
    rule.node.addDependency(policy);
    rules[spec.name] = rule;
  }

  // ── What devices may publish to ────────────────────────────────────────────────────────────────────────────
  // With Basic Ingest (ADR 1001) devices publish to `$aws/rules/<rule>/<topic>`: the named rule runs without the
  // message broker (no messaging charge), `topic()` in its SQL does not see the prefix, so partition keys and
  // envelopes are the same as for a broker publish. Without it, devices publish to the rules' topics through the
  // broker. Either way a device connects as its thing and publishes nothing else (no subscriptions).
  const deviceTopics = payloadSources.map((source) => {
    const topic = config.ingest.basicIngest
      ? basicIngestTopic(ingestRuleName(app.stage, source.source), source.topicFilter)
      : source.topicFilter;
    return { source: source.source, topic };
  });
  const devicePolicy = new iot.CfnPolicy(stack, "DevicePolicy", {
    policyName: `driftwatch_${app.stage}_devices`.replace(/[^A-Za-z0-9_]/g, "_"),
    policyDocument: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "iot:Connect",
          Resource: `arn:${Aws.PARTITION}:iot:${Aws.REGION}:${Aws.ACCOUNT_ID}:client/\${iot:Connection.Thing.ThingName}`,
          Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } },
        },
        {
          Effect: "Allow",
          Action: "iot:Publish",
          // IoT policy wildcards: `*` for MQTT's `+` and `#` (a policy cannot express one level exactly).
          Resource: deviceTopics.map(
            ({ topic }) =>
              `arn:${Aws.PARTITION}:iot:${Aws.REGION}:${Aws.ACCOUNT_ID}:topic/${topic.replace(/[+#]/g, "*")}`,
          ),
        },
      ],
    },
  });

  stack.addOutputs({
    DevicePolicy: devicePolicy.ref,
    DeviceTopics: deviceTopics.map(({ source, topic }) => `${source}=${topic}`).join(" "),
    TelemetryStream: telemetryStream.streamName,
    IngestDeliveryStream: deliveryStream.deliveryStreamName,
    LakeFeed: config.ingest.lakeFeed,
    RuleErrorsQueue: ruleErrors.queueUrl,
  });

  return {
    telemetryStream,
    deliveryStream,
    transform,
    lakeWriter,
    ruleErrors,
    ruleErrorsAlarm,
    rules,
    devicePolicy,
    deviceTopics,
    production,
  };
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
