import {
  Duration,
  RemovalPolicy,
  Stack,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from "aws-cdk-lib";
import { Function as SstFunction, use, type StackContext } from "sst/constructs";
import { tables } from "@driftwatch/functions/shared/tables";
import { isProductionStage } from "./constructs/app-defaults.ts";
import { EscalationStateMachine } from "./constructs/EscalationStateMachine.ts";
import {
  escalationConfig,
  executionTimeoutSeconds,
  fallbackExecutionPolicy,
  policyCatalogue,
} from "./constructs/escalation-config.ts";
import { ESCALATION_METRICS, powertoolsMetric } from "./constructs/monitoring-metrics.ts";
import { alarmName, escalationStateMachineName, tierTopicName } from "./constructs/names.ts";
import { functionBaselineSuppressions, suppress } from "./constructs/nag.ts";
import { tableFromDefinition } from "./constructs/table.ts";
import { Storage } from "./Storage.ts";

const HANDLERS = {
  openIncident: "packages/functions/src/stepfunctions/open-incident.handler",
  resolvePolicy: "packages/functions/src/stepfunctions/resolve-policy.handler",
  notify: "packages/functions/src/stepfunctions/notify.handler",
  awaitAck: "packages/functions/src/stepfunctions/await-ack.handler",
  recordEvent: "packages/functions/src/stepfunctions/record-event.handler",
  checkQuiet: "packages/functions/src/stepfunctions/check-quiet.handler",
  ack: "packages/functions/src/http/ack.handler",
} as const;

/** Metrics the task handlers emit (Powertools, namespace Driftwatch, dimension service) that page someone. */
export const ESCALATION_ALARM_METRICS = {
  [ESCALATION_METRICS.incidentsUnacknowledged]:
    "An incident went through every tier and repeat without an acknowledgement",
  [ESCALATION_METRICS.tierUndelivered]: "No channel of an escalation tier could deliver its notification",
  [ESCALATION_METRICS.escalationStepErrors]:
    "An escalation step failed after its retries (see the execution history)",
} as const;

/**
 * Escalation (issue 5): incidents + used-link nonces tables, one KMS-encrypted SNS topic per tier with e-mail/SMS
 * subscriptions from the stage config, an optional signed webhook channel, the acknowledgement-link signing
 * secret, the task Lambdas, the Standard state machine (`EscalationStateMachine`, logging ALL, X-Ray), the public
 * acknowledge endpoint (Lambda Function URL; links are HMAC-signed, expiring, single use) and alarms.
 */
export function Escalation({ app, stack }: StackContext) {
  const storage = use(Storage);
  const config = escalationConfig(app.stage);
  const production = isProductionStage(app.stage);
  const { region, account, partition } = Stack.of(stack);
  const removalPolicy = production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

  const key = new kms.Key(stack, "EscalationKey", {
    description: `${app.stage} driftwatch: escalation topics and secrets`,
    enableKeyRotation: true,
    alias: `alias/${app.logicalPrefixedName("escalation")}`,
    removalPolicy,
  });

  const incidentsTable = tableFromDefinition(stack, tables.incidents, { retain: production });
  const noncesTable = tableFromDefinition(stack, tables.ackNonces, { retain: production });
  for (const table of [incidentsTable, noncesTable]) {
    suppress(table, [
      {
        id: "HIPAA.Security-DynamoDBInBackupPlan",
        reason:
          "Point-in-time recovery (35 days, continuous) is on; AWS Backup plans are managed at the organization level, not per app.",
      },
    ]);
  }

  // ── Channels ──────────────────────────────────────────────────────────────────────────────────────────────
  const topics = config.tiers.map((tier, i) => {
    const topic = new sns.Topic(stack, `Tier${i + 1}Topic`, {
      topicName: tierTopicName(app, i + 1),
      displayName: `Driftwatch ${app.stage} escalation tier ${i + 1} (${tier.name})`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of tier.emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const phone of tier.sms) topic.addSubscription(new subscriptions.SmsSubscription(phone));
    return topic;
  });
  const topicArns = Object.fromEntries(topics.map((t, i) => [`tier-${i + 1}`, t.topicArn]));

  const ackSecret = new secretsmanager.Secret(stack, "AckSigningSecret", {
    description: `${app.stage} driftwatch: HMAC key of acknowledgement links`,
    encryptionKey: key,
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    removalPolicy,
  });
  const webhookSecret = config.webhook
    ? new secretsmanager.Secret(stack, "WebhookSecret", {
        description: `${app.stage} driftwatch: webhook:oncall {url, signingSecret}; set the url after deploy`,
        encryptionKey: key,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ url: "https://hooks.example.invalid/driftwatch" }),
          generateStringKey: "signingSecret",
          passwordLength: 48,
          excludePunctuation: true,
        },
        removalPolicy,
      })
    : undefined;
  for (const secret of [ackSecret, webhookSecret]) {
    if (!secret) continue;
    suppress(secret, [
      {
        id: "AwsSolutions-SMG4",
        reason:
          "Rotating the link-signing key would invalidate acknowledgement links already sent; rotation is a manual runbook step (the signer verifies with old and new keys during the overlap).",
      },
      {
        id: "HIPAA.Security-SecretsManagerRotationEnabled",
        reason:
          "Manual rotation by runbook (see AwsSolutions-SMG4): automatic rotation would break outstanding acknowledgement links or webhook receivers.",
      },
    ]);
  }

  // ── Functions ─────────────────────────────────────────────────────────────────────────────────────────────
  const stateMachineName = escalationStateMachineName(app);
  const stateMachineArn = `arn:${partition}:states:${region}:${account}:stateMachine:${stateMachineName}`;
  const catalogue = policyCatalogue(config);
  const baseEnv = { [tables.incidents.envVar]: incidentsTable.tableName };

  const fn = (id: string, handler: string, description: string, environment: Record<string, string> = {}) => {
    const f = new SstFunction(stack, id, {
      handler,
      description,
      timeout: "30 seconds",
      environment: { ...baseEnv, ...environment },
    });
    suppress(f, [
      ...functionBaselineSuppressions({
        dlqReason:
          id === "Ack"
            ? "Invoked synchronously through its Function URL; the caller gets the error page and can retry, there is no async event to keep."
            : "Invoked synchronously by Step Functions (lambda:invoke), which retries and catches every failure in the state machine; no async event to keep.",
        concurrencyReason:
          "Bounded by the number of open escalations (a few per minute); reserving concurrency would fail deploys in accounts with low unreserved limits.",
      }),
    ]);
    return f;
  };
  const incidentsRw = (f: lambda.IFunction, actions: string[]) =>
    f.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "Incidents",
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [incidentsTable.tableArn],
      }),
    );
  const sendTaskSuccess = (f: lambda.IFunction) =>
    f.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "CompleteAckWait",
        actions: ["states:SendTaskSuccess"],
        resources: [stateMachineArn],
      }),
    );
  const readSecret = (f: lambda.IFunction, secret: secretsmanager.ISecret) => {
    f.addToRolePolicy(
      new iam.PolicyStatement({
        sid: `Read${secret.node.id}`,
        actions: ["secretsmanager:GetSecretValue"],
        resources: [secret.secretArn],
      }),
    );
    key.grant(f, "kms:Decrypt");
  };

  const openIncident = fn(
    "OpenIncident",
    HANDLERS.openIncident,
    "Escalation: open an incident or fold the alert into the open one",
  );
  incidentsRw(openIncident, ["GetItem", "PutItem", "UpdateItem", "DeleteItem"]);

  const resolvePolicy = fn(
    "ResolvePolicy",
    HANDLERS.resolvePolicy,
    "Escalation: resolve the policy (model > manufacturer > default)",
    {
      ESCALATION_POLICIES: JSON.stringify(catalogue),
    },
  );
  incidentsRw(resolvePolicy, ["GetItem", "UpdateItem"]);

  const ack = fn(
    "Ack",
    HANDLERS.ack,
    "Escalation: one-click acknowledgement links (signed, expiring, single use)",
    {
      [tables.ackNonces.envVar]: noncesTable.tableName,
      ACK_SIGNING_SECRET_ARN: ackSecret.secretArn,
      ACK_LINK_TTL_SECONDS: String(config.ackLinkTtlSeconds),
    },
  );
  incidentsRw(ack, ["GetItem", "UpdateItem", "DeleteItem"]);
  ack.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "AckNonces",
      actions: ["dynamodb:PutItem", "dynamodb:DeleteItem"],
      resources: [noncesTable.tableArn],
    }),
  );
  readSecret(ack, ackSecret);
  sendTaskSuccess(ack);
  // Public by design: the link itself (HMAC-signed, expiring, single use) is the credential.
  const ackUrl = ack.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  suppress(ack, [
    {
      id: "HIPAA.Security-LambdaFunctionPublicAccessProhibited",
      reason:
        "The acknowledgement endpoint must be reachable from an e-mail/SMS/Slack link without a login; each link is HMAC-signed, expires and works once (nonce table), and the handler returns no PHI.",
    },
  ]);

  const notify = fn(
    "Notify",
    HANDLERS.notify,
    "Escalation: notify one channel of a tier, with an acknowledgement link",
    {
      SNS_TOPIC_ARNS: JSON.stringify(topicArns),
      ACK_SIGNING_SECRET_ARN: ackSecret.secretArn,
      ACK_LINK_TTL_SECONDS: String(config.ackLinkTtlSeconds),
      ACK_BASE_URL: `${ackUrl.url}ack`,
      ...(webhookSecret ? { WEBHOOK_SECRET_ARN: webhookSecret.secretArn } : {}),
    },
  );
  incidentsRw(notify, ["GetItem", "UpdateItem"]);
  notify.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "PublishTierTopics",
      actions: ["sns:Publish"],
      resources: topics.map((t) => t.topicArn),
    }),
  );
  key.grant(notify, "kms:GenerateDataKey", "kms:Decrypt");
  readSecret(notify, ackSecret);
  if (webhookSecret) readSecret(notify, webhookSecret);

  const awaitAck = fn(
    "AwaitAck",
    HANDLERS.awaitAck,
    "Escalation: store the task token of an acknowledgement wait",
  );
  incidentsRw(awaitAck, ["GetItem", "UpdateItem"]);
  sendTaskSuccess(awaitAck);

  const recordEvent = fn(
    "RecordEvent",
    HANDLERS.recordEvent,
    "Escalation: timeline entries and alarm metrics of escalation steps",
  );
  incidentsRw(recordEvent, ["GetItem", "UpdateItem"]);

  const checkQuiet = fn(
    "CheckQuiet",
    HANDLERS.checkQuiet,
    "Escalation: close resolved incidents, auto-resolve after the quiet period",
  );
  incidentsRw(checkQuiet, ["GetItem", "UpdateItem", "DeleteItem"]);
  sendTaskSuccess(checkQuiet);

  // ── State machine ─────────────────────────────────────────────────────────────────────────────────────────
  const logGroup = new logs.LogGroup(stack, "EscalationExecutionLogs", {
    logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
    encryptionKey: storage.logsKey,
    retention: production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
    removalPolicy,
  });
  const escalation = new EscalationStateMachine(stack, "Escalation", {
    functions: { openIncident, resolvePolicy, notify, awaitAck, recordEvent, checkQuiet },
    stateMachineName,
    fallbackPolicy: fallbackExecutionPolicy(config),
    timeout: Duration.seconds(executionTimeoutSeconds(config)),
    logGroup,
    removalPolicy,
  });
  const stateMachine = escalation.stateMachine;
  suppress(stateMachine, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "CDK's Lambda task grants include `<function arn>:*` (any version/alias of the same six task functions); Step Functions log delivery and X-Ray APIs do not support resource-level permissions and need Resource '*'.",
    },
    {
      id: "HIPAA.Security-IAMNoInlinePolicy",
      reason:
        "The state machine role's policy is generated from the task definitions (invoke the six task functions, logs, X-Ray) and attached to this role only.",
    },
  ]);

  // ── Alarms ────────────────────────────────────────────────────────────────────────────────────────────────
  const alarmAction = new cloudwatchActions.SnsAction(storage.alarmTopic);
  const alarms: Record<string, cloudwatch.Alarm> = {};
  const alarm = (id: string, description: string, metric: cloudwatch.IMetric) => {
    alarms[id] = new cloudwatch.Alarm(stack, id, {
      alarmName: alarmName(app, id),
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarms[id].addAlarmAction(alarmAction);
  };
  for (const [metricName, description] of Object.entries(ESCALATION_ALARM_METRICS)) {
    alarm(
      `${metricName}Alarm`,
      description,
      // The stage's own series (service dimension carries the stage): another stage never moves this alarm.
      powertoolsMetric(app.stage, metricName, { period: Duration.minutes(5) }),
    );
  }
  alarm(
    "ExecutionsFailedAlarm",
    "An escalation execution failed (its incident could not be opened): redrive it",
    stateMachine.metricFailed({ period: Duration.minutes(5), statistic: "Sum" }),
  );
  alarm(
    "ExecutionsTimedOutAlarm",
    "An escalation execution timed out",
    stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: "Sum" }),
  );

  stack.addOutputs({
    EscalationStateMachine: stateMachine.stateMachineArn,
    AckUrl: `${ackUrl.url}ack`,
    IncidentsTable: incidentsTable.tableName,
    ...Object.fromEntries(topics.map((t, i) => [`Tier${i + 1}Topic`, t.topicArn])),
  });

  return {
    stateMachine,
    incidentsTable,
    noncesTable,
    topics,
    ackUrl,
    ackSecret,
    webhookSecret,
    key,
    config,
    alarms,
  };
}
