import {
  Duration,
  Size,
  Stack,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_events as events,
  aws_events_targets as eventTargets,
  aws_iam as iam,
  aws_kinesisfirehose as firehose,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_logs as logs,
  aws_sqs as sqs,
} from "aws-cdk-lib";
import { Function as SstFunction, use, type StackContext } from "sst/constructs";
import { firehoseScoresPrefix } from "@driftwatch/functions/shared/lake-layout";
import { tables } from "@driftwatch/functions/shared/tables";
import { isProductionStage } from "./constructs/app-defaults.ts";
import { firehoseDeliveryStatements } from "./constructs/firehose-delivery-policy.ts";
import { alarmName, escalationStateMachineName } from "./constructs/names.ts";
import { arnRef, functionBaselineSuppressions, suppress } from "./constructs/nag.ts";
import { scoringConfig } from "./constructs/scoring-config.ts";
import { tableFromDefinition } from "./constructs/table.ts";
import { Escalation } from "./Escalation.ts";
import { Ingest } from "./Ingest.ts";
import { Storage } from "./Storage.ts";

export const SCORE_HANDLER = "packages/functions/src/kinesis/score.handler";
export const WINDOW_TICK_HANDLER = "packages/functions/src/kinesis/window-tick.handler";
/** Model checkpoints and per-shard presence snapshots, in the lake bucket (KMS, versioned, SSL-only). */
export const CHECKPOINT_PREFIX = "checkpoints/scoring/";
export const firehoseScoresErrorPrefix =
  "errors/firehose-scores/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/";

/**
 * Scoring: the Flink-free replacement of the seeds' Kinesis Data Analytics application. The `telemetry` stream
 * feeds the scoring Lambda through an event source mapping with a tumbling window; the handler keeps window
 * aggregates in the window state, scores with RCF, starts escalations, writes aggregates to the `Metrics` table,
 * model checkpoints to S3 and every scored record to the `scores` Firehose (lake `scores/`).
 */
export function Scoring({ app, stack }: StackContext) {
  const storage = use(Storage);
  const ingest = use(Ingest);
  // Silence incidents resolve themselves when the device reports again: the scorer updates the incident (ADR 0606).
  const escalation = use(Escalation);
  const config = scoringConfig(app.stage);
  const production = isProductionStage(app.stage);
  const { region, account, partition } = Stack.of(stack);

  const metricsTable = tableFromDefinition(stack, tables.metrics, { retain: production });
  const thresholdsTable = tableFromDefinition(stack, tables.thresholds, { retain: production });
  for (const table of [metricsTable, thresholdsTable]) {
    suppress(table, [
      {
        id: "HIPAA.Security-DynamoDBInBackupPlan",
        reason:
          "Point-in-time recovery (35 days, continuous) is on; AWS Backup plans are managed at the organization level, not per app.",
      },
    ]);
  }

  // ── On-failure destination: batches that exhausted their retries or aged out (metadata, not payloads) ─────
  const dlqKey = new kms.Key(stack, "ScoringDlqKey", {
    description: `${app.stage} driftwatch: scoring on-failure destination`,
    enableKeyRotation: true,
  });
  const failures = new sqs.Queue(stack, "ScoringFailures", {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: dlqKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  suppress(failures, [
    {
      id: "AwsSolutions-SQS3",
      reason:
        "This queue IS the on-failure destination of the scoring event source mapping (a dead-letter destination); it has no consumer that could fail into another queue.",
    },
  ]);

  // ── Scores archive: Firehose → lake scores/ ───────────────────────────────────────────────────────────────
  const scoresLogs = new logs.LogGroup(stack, "ScoresFirehoseLogs", {
    encryptionKey: storage.logsKey,
    retention: (production ? 365 : 30) as logs.RetentionDays,
  });
  const scoresRole = new iam.Role(stack, "ScoresFirehoseRole", {
    assumedBy: new iam.ServicePrincipal("firehose.amazonaws.com", {
      conditions: { StringEquals: { "aws:SourceAccount": account } },
    }),
    description: "Firehose scores: writes scored records to the lake's scores/ prefix",
  });
  const scoresStream = new firehose.DeliveryStream(stack, "ScoresStream", {
    encryption: firehose.StreamEncryption.awsOwnedKey(),
    role: scoresRole.withoutPolicyUpdates(),
    destination: new firehose.S3Bucket(storage.lake, {
      role: scoresRole.withoutPolicyUpdates(),
      dataOutputPrefix: firehoseScoresPrefix,
      errorOutputPrefix: firehoseScoresErrorPrefix,
      encryptionKey: storage.lakeKey,
      compression: firehose.Compression.GZIP,
      bufferingInterval: Duration.seconds(config.scoresBufferSeconds),
      bufferingSize: Size.mebibytes(64),
      loggingConfig: new firehose.EnableLogging(scoresLogs),
    }),
  });
  const scoresPolicy = new iam.Policy(stack, "ScoresFirehosePolicy", {
    roles: [scoresRole],
    statements: firehoseDeliveryStatements(stack, {
      bucket: storage.lake,
      objects: { sid: "WriteScores", patterns: ["scores/*", "errors/firehose-scores/*"] },
      keys: { sid: "EncryptLake", keys: [storage.lakeKey] },
      logGroup: scoresLogs,
    }),
  });
  (scoresStream.node.defaultChild as firehose.CfnDeliveryStream).node.addDependency(scoresPolicy);
  suppress(scoresPolicy, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "Firehose writes objects under time-partitioned keys below scores/ (and its error prefix), so object resources end in `/*`; actions are PutObject/AbortMultipartUpload only.",
      appliesTo: [arnRef(storage.lake, "/scores/*"), arnRef(storage.lake, "/errors/firehose-scores/*")],
    },
    {
      id: "HIPAA.Security-IAMNoInlinePolicy",
      reason:
        "The scores delivery role's one policy, least privilege for this stream's prefixes, key and log group.",
    },
  ]);

  // ── The scoring function ──────────────────────────────────────────────────────────────────────────────────
  const stateMachineArn = `arn:${partition}:states:${region}:${account}:stateMachine:${escalationStateMachineName(app)}`;
  const score = new SstFunction(stack, "Score", {
    handler: SCORE_HANDLER,
    description: "Scoring: tumbling-window aggregates, RCF scores, thresholds, alerts → escalation",
    memorySize: `${config.memoryMiB} MB` as `${number} MB`,
    // A batch of 1,000 records scores in well under 10 s; the final invoke also writes aggregates and checkpoints.
    timeout: "5 minutes",
    environment: {
      [tables.devices.envVar]: storage.devicesTable.tableName,
      [tables.metrics.envVar]: metricsTable.tableName,
      [tables.thresholds.envVar]: thresholdsTable.tableName,
      TOKEN_KEY_ID: storage.tokenKey.keyArn,
      CHECKPOINT_BUCKET: storage.lake.bucketName,
      CHECKPOINT_PREFIX: CHECKPOINT_PREFIX,
      ESCALATION_STATE_MACHINE_ARN: stateMachineArn,
      SCORES_DELIVERY_STREAM: scoresStream.deliveryStreamName,
      WINDOW_SECONDS: String(config.windowSeconds),
      SILENCE_WINDOWS: String(config.silenceWindows),
      METRICS_TTL_DAYS: String(config.metricsTtlDays),
      [tables.incidents.envVar]: escalation.incidentsTable.tableName,
    },
  });
  // Registry lookups only (cached by device id): no Query/Scan, no writes.
  storage.devicesTable.grant(score, "dynamodb:GetItem", "dynamodb:BatchGetItem");
  storage.tokenKey.grant(score, "kms:GenerateMac");
  metricsTable.grant(score, "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Query");
  thresholdsTable.grant(score, "dynamodb:BatchGetItem", "dynamodb:GetItem");
  score.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "ModelCheckpoints",
      actions: ["s3:GetObject", "s3:PutObject"],
      resources: [storage.lake.arnForObjects(`${CHECKPOINT_PREFIX}*`)],
    }),
  );
  // GetObject of a missing key answers 404 (not 403) only with ListBucket; scoped to the checkpoint prefix.
  score.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "ModelCheckpointsList",
      actions: ["s3:ListBucket"],
      resources: [storage.lake.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${CHECKPOINT_PREFIX}*`] } },
    }),
  );
  storage.lakeKey.grant(score, "kms:GenerateDataKey", "kms:Decrypt");
  score.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "ArchiveScores",
      actions: ["firehose:PutRecordBatch"],
      resources: [scoresStream.deliveryStreamArn],
    }),
  );
  score.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "StartEscalation",
      actions: ["states:StartExecution"],
      resources: [stateMachineArn],
    }),
  );
  // Resolve-on-return of silence incidents (`incidents/resolve-on-return.ts`): read the dedupe pointer and the
  // incident, mark it resolved, drop the pointer, and end the escalation's acknowledgement wait.
  score.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "ResolveSilenceIncidents",
      actions: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
      resources: [escalation.incidentsTable.tableArn],
    }),
  );
  score.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "EndAckWaitOnReturn",
      actions: ["states:SendTaskSuccess"],
      resources: [stateMachineArn],
    }),
  );

  score.addEventSource(
    new sources.KinesisEventSource(ingest.telemetryStream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: config.batchSize,
      maxBatchingWindow: Duration.seconds(config.batchingWindowSeconds),
      tumblingWindow: Duration.seconds(config.windowSeconds),
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: config.retryAttempts,
      maxRecordAge: Duration.seconds(config.maxRecordAgeSeconds),
      // Tumbling windows need one invocation per shard at a time, in order.
      parallelizationFactor: 1,
      onFailure: new sources.SqsDlq(failures),
    }),
  );
  suppress(score, [
    ...functionBaselineSuppressions({
      dlqReason:
        "Invoked synchronously by a Kinesis event source mapping whose on-failure destination (the encrypted ScoringFailures queue) keeps failed batches; an async DLQ never applies.",
      concurrencyReason:
        "Concurrency is one invocation per shard (parallelization factor 1, required by tumbling windows); reserving concurrency would only add a failure mode.",
    }),
    {
      id: "AwsSolutions-IAM5",
      reason:
        "Checkpoints are objects below the checkpoint prefix (one per shard and model key), so the object resource ends in `/*`; GetObject/PutObject only.",
      appliesTo: [arnRef(storage.lake, `/${CHECKPOINT_PREFIX}*`)],
    },
    {
      id: "AwsSolutions-IAM5",
      reason:
        "CDK's grant for the SQS on-failure destination (SendMessage to a KMS-encrypted queue) uses kms:GenerateDataKey*/ReEncrypt*, scoped to the one queue key.",
      appliesTo: ["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"],
    },
  ]);

  // ── Window ticks: every shard's windows close even when all its devices are quiet (ADR 0606) ───────────────
  // Lambda invokes a shard only when it has records, so a fleet that stops publishing would never reach the
  // silence rule. Every minute (the shortest EventBridge rate; windows are ≥ 60 s by default) one tick record goes
  // into each open shard; the scorer skips ticks but closes the windows they fall in.
  const windowTick = new SstFunction(stack, "WindowTick", {
    handler: WINDOW_TICK_HANDLER,
    description:
      "Scoring: window ticks into every telemetry shard, so idle shards close windows (silence rule)",
    memorySize: "256 MB",
    timeout: "30 seconds",
    environment: { TELEMETRY_STREAM_ARN: ingest.telemetryStream.streamArn },
  });
  windowTick.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "PutWindowTicks",
      actions: ["kinesis:ListShards", "kinesis:PutRecords"],
      resources: [ingest.telemetryStream.streamArn],
    }),
  );
  const tickSchedule = new events.Rule(stack, "WindowTickSchedule", {
    description: `${app.stage} driftwatch: a window tick into every telemetry shard each minute`,
    schedule: events.Schedule.rate(Duration.minutes(1)),
    targets: [
      new eventTargets.LambdaFunction(windowTick, {
        // A late tick is worthless (the next one comes a minute later): two retries within the minute.
        retryAttempts: 2,
        maxEventAge: Duration.seconds(60),
      }),
    ],
  });
  suppress(windowTick, [
    ...functionBaselineSuppressions({
      dlqReason:
        "Invoked by an EventBridge schedule every minute; a failed tick is replaced by the next minute's (it only delays the silence rule by a window), so there is nothing worth keeping in a DLQ.",
      concurrencyReason: "One invocation per minute; reserving concurrency would only add a failure mode.",
    }),
  ]);

  // ── Alarms ────────────────────────────────────────────────────────────────────────────────────────────────
  const alarmAction = new cloudwatchActions.SnsAction(storage.alarmTopic);
  const iteratorAge = new cloudwatch.Alarm(stack, "IteratorAgeAlarm", {
    alarmName: alarmName(app, "IteratorAgeAlarm"),
    alarmDescription: `Scoring is falling behind: the oldest unprocessed telemetry record is older than ${config.iteratorAgeAlarmSeconds} s`,
    metric: score.metric("IteratorAge", { period: Duration.minutes(1), statistic: "Maximum" }),
    threshold: config.iteratorAgeAlarmSeconds * 1000,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  iteratorAge.addAlarmAction(alarmAction);
  const dlqDepth = new cloudwatch.Alarm(stack, "ScoringFailuresAlarm", {
    alarmName: alarmName(app, "ScoringFailuresAlarm"),
    alarmDescription:
      "A telemetry batch could not be scored after its retries (see the ScoringFailures queue)",
    metric: failures.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: "Maximum",
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  dlqDepth.addAlarmAction(alarmAction);

  stack.addOutputs({
    ScoreFunction: score.functionName,
    WindowTickFunction: windowTick.functionName,
    MetricsTable: metricsTable.tableName,
    ThresholdsTable: thresholdsTable.tableName,
    ScoresDeliveryStream: scoresStream.deliveryStreamName,
    ScoringFailuresQueue: failures.queueUrl,
  });

  return {
    score,
    windowTick,
    tickSchedule,
    metricsTable,
    thresholdsTable,
    scoresStream,
    failures,
    stateMachineArn,
    config,
    alarms: { iteratorAge, dlqDepth },
  };
}
