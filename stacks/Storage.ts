import { Duration, Stack, aws_iam as iam, aws_kms as kms, aws_s3 as s3, aws_sns as sns } from "aws-cdk-lib";
import type { StackContext } from "sst/constructs";
import { tables } from "@driftwatch/functions/shared/tables";
import { isProductionStage } from "./constructs/app-defaults.ts";
import { breakGlassRoleName, firehoseDeliveryRoleName, lakeWriterRoleName } from "./constructs/names.ts";
import { arnRef, suppress } from "./constructs/nag.ts";
import { stageConfig } from "./constructs/stage-config.ts";
import { tableFromDefinition } from "./constructs/table.ts";

/** Lake prefixes whose objects can hold original payloads (PHI): readable only through the break-glass role. */
export const RESTRICTED_LAKE_PREFIXES = ["raw/", "errors/firehose/"] as const;

/**
 * Storage: the device registry, the PHI vault, the S3 data lake (+ its access-log bucket) and the KMS keys.
 *
 * Keys (all customer managed, rotation on where KMS supports it):
 * - `vaultKey`: encrypts the vault table and is the envelope key for PHI values (GenerateDataKey/Decrypt);
 * - `tokenKey`: HMAC_256 key (GenerateMac) for stable keyed-hash identifier tokens (KMS cannot rotate HMAC keys,
 *   and tokens must stay stable, so rotation would be wrong here anyway);
 * - `lakeKey`: default encryption of the lake bucket (readings/, errors/, scores/);
 * - `rawKey`: the raw/ zone (source record backup = original payloads, with PHI). Its key policy lets only the
 *   Firehose delivery role and the stream-fed lake writer's role encrypt (through S3) and the break-glass role
 *   decrypt (through S3). No IAM policy
 *   can widen that: the policy does not delegate use of the key to the account;
 * - `logsKey`: CloudWatch Logs groups of the pipeline;
 * - `alarmsKey`: the `alarmTopic` SNS topic that every stack's CloudWatch alarms notify.
 */
export function Storage({ app, stack }: StackContext) {
  const production = isProductionStage(app.stage);
  const config = stageConfig(app.stage);
  const region = Stack.of(stack).region;
  const account = Stack.of(stack).account;
  const partition = Stack.of(stack).partition;

  const key = (id: string, description: string) =>
    new kms.Key(stack, id, {
      description: `${app.stage} driftwatch: ${description}`,
      enableKeyRotation: true,
      alias: `alias/${app.logicalPrefixedName(id.replace(/Key$/, "").toLowerCase())}`,
    });

  const vaultKey = key("VaultKey", "PHI vault table and PHI value envelope encryption");
  const lakeKey = key("LakeKey", "data lake default encryption");

  const tokenKey = new kms.Key(stack, "TokenKey", {
    description: `${app.stage} driftwatch: HMAC key for stable identifier tokens`,
    keySpec: kms.KeySpec.HMAC_256,
    keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
    alias: `alias/${app.logicalPrefixedName("token")}`,
  });

  const logsKey = new kms.Key(stack, "LogsKey", {
    description: `${app.stage} driftwatch: CloudWatch Logs encryption`,
    enableKeyRotation: true,
    alias: `alias/${app.logicalPrefixedName("logs")}`,
  });
  logsKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchLogsOfThisAccount",
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      conditions: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${account}:log-group:*`,
        },
      },
    }),
  );

  // Operational alarms of every stack publish here (subscribe on-call after deploy). CloudWatch needs the key.
  const alarmsKey = key("AlarmsKey", "operational alarm notifications");
  alarmsKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsPublish",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
      conditions: { StringEquals: { "aws:SourceAccount": account } },
    }),
  );
  const alarmTopic = new sns.Topic(stack, "Alarms", { masterKey: alarmsKey, enforceSSL: true });
  // enforceSSL adds a Deny for non-TLS requests; CloudWatch alarm actions need their own explicit Allow.
  alarmTopic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsOfThisAccountPublish",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [alarmTopic.topicArn],
      conditions: {
        StringEquals: { "aws:SourceAccount": account },
        ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
      },
    }),
  );

  // Break-glass: the only principal that may read original payloads. Assumable by account principals with MFA.
  const breakGlassRole = new iam.Role(stack, "BreakGlassRole", {
    roleName: breakGlassRoleName(app),
    description:
      "Read access to the raw/ zone (original payloads, may contain PHI). MFA required; every use is in CloudTrail.",
    assumedBy: new iam.AccountRootPrincipal().withConditions({
      Bool: { "aws:MultiFactorAuthPresent": "true" },
    }),
    maxSessionDuration: Duration.hours(1),
  });
  const breakGlassRoleArn = `arn:${partition}:iam::${account}:role/${breakGlassRoleName(app)}`;
  const firehoseRoleArn = `arn:${partition}:iam::${account}:role/${firehoseDeliveryRoleName(app)}`;
  const lakeWriterRoleArn = `arn:${partition}:iam::${account}:role/${lakeWriterRoleName(app)}`;
  const viaS3 = { "kms:ViaService": `s3.${region}.amazonaws.com` };
  const keyAdminRoleArn = rawKeyAdminRoleArn(partition, account, region);

  const rawKey = new kms.Key(stack, "RawKey", {
    description: `${app.stage} driftwatch: raw/ zone (original payloads, may contain PHI)`,
    enableKeyRotation: true,
    alias: `alias/${app.logicalPrefixedName("raw")}`,
    policy: new iam.PolicyDocument({
      statements: [
        // Administration by one named role only (the CloudFormation execution role that deploys this stack,
        // or DRIFTWATCH_KEY_ADMIN_ROLE_ARN): the policy never delegates to the account, so no IAM policy can let
        // another principal change the policy or grant itself Decrypt.
        new iam.PolicyStatement({
          sid: "KeyAdministrationByNamedRole",
          principals: [new iam.ArnPrincipal(keyAdminRoleArn)],
          actions: [
            "kms:Create*",
            "kms:Describe*",
            "kms:Enable*",
            "kms:List*",
            "kms:Put*",
            "kms:Update*",
            "kms:Revoke*",
            "kms:Disable*",
            "kms:Get*",
            "kms:Delete*",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:ScheduleKeyDeletion",
            "kms:CancelKeyDeletion",
            "kms:RotateKeyOnDemand",
          ],
          resources: ["*"],
        }),
        new iam.PolicyStatement({
          sid: "DenyGrantsAndPolicyChangesToOthers",
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ["kms:CreateGrant", "kms:PutKeyPolicy"],
          resources: ["*"],
          conditions: { ArnNotEquals: { "aws:PrincipalArn": keyAdminRoleArn } },
        }),
        new iam.PolicyStatement({
          sid: "FirehoseWritesRawZoneThroughS3",
          principals: [new iam.AccountRootPrincipal()],
          // Decrypt is needed by S3 for multipart uploads; reading objects is denied by the bucket policy.
          actions: ["kms:GenerateDataKey*", "kms:Encrypt", "kms:Decrypt"],
          resources: ["*"],
          conditions: { ArnEquals: { "aws:PrincipalArn": firehoseRoleArn }, StringEquals: viaS3 },
        }),
        new iam.PolicyStatement({
          sid: "LakeWriterWritesRawZoneThroughS3",
          principals: [new iam.AccountRootPrincipal()],
          // The stream-fed lake writer (ADR 1001) puts raw/ objects with this key; it never reads them.
          actions: ["kms:GenerateDataKey*", "kms:Encrypt"],
          resources: ["*"],
          conditions: { ArnEquals: { "aws:PrincipalArn": lakeWriterRoleArn }, StringEquals: viaS3 },
        }),
        new iam.PolicyStatement({
          sid: "BreakGlassReadsRawZoneThroughS3",
          principals: [new iam.AccountRootPrincipal()],
          actions: ["kms:Decrypt", "kms:DescribeKey"],
          resources: ["*"],
          conditions: { ArnEquals: { "aws:PrincipalArn": breakGlassRoleArn }, StringEquals: viaS3 },
        }),
      ],
    }),
  });

  // Server access logs of the lake (SSE-S3: S3 log delivery does not support SSE-KMS targets).
  const accessLogsBucket = new s3.Bucket(stack, "AccessLogs", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [
      {
        id: "expire-access-logs",
        expiration: Duration.days(production ? 365 : 30),
        noncurrentVersionExpiration: Duration.days(7),
      },
    ],
  });
  suppress(accessLogsBucket, [
    {
      id: "AwsSolutions-S1",
      reason: "This is the server access log target of the lake; logging it to itself would loop.",
    },
    {
      id: "HIPAA.Security-S3BucketLoggingEnabled",
      reason: "This is the server access log target of the lake; logging it to itself would loop.",
    },
    {
      id: "HIPAA.Security-S3DefaultEncryptionKMS",
      reason: "S3 server access log delivery only supports SSE-S3 on the target bucket.",
    },
    {
      id: "HIPAA.Security-S3BucketReplicationEnabled",
      reason:
        "Access logs are operational, single-region by design; versioning plus lifecycle give recovery from deletes.",
    },
  ]);

  const lake = new s3.Bucket(stack, "Lake", {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: lakeKey,
    bucketKeyEnabled: true,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    serverAccessLogsBucket: accessLogsBucket,
    serverAccessLogsPrefix: "lake/",
    lifecycleRules: lakeLifecycleRules(config.lake, production),
  });
  suppress(lake, [
    {
      id: "HIPAA.Security-S3BucketReplicationEnabled",
      reason:
        "Single-region deployment; durability comes from S3 itself, versioning and lifecycle. Cross-region replication of PHI-bearing data is a separate DR decision (ADR 0101).",
    },
  ]);

  // Nobody but the break-glass role reads objects that may hold original payloads.
  lake.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "DenyReadingRestrictedZonesExceptBreakGlass",
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ["s3:GetObject", "s3:GetObjectVersion"],
      resources: RESTRICTED_LAKE_PREFIXES.map((prefix) => lake.arnForObjects(`${prefix}*`)),
      conditions: { ArnNotEquals: { "aws:PrincipalArn": breakGlassRoleArn } },
    }),
  );
  breakGlassRole.addToPolicy(
    new iam.PolicyStatement({
      actions: ["s3:GetObject", "s3:GetObjectVersion"],
      resources: RESTRICTED_LAKE_PREFIXES.map((prefix) => lake.arnForObjects(`${prefix}*`)),
    }),
  );
  breakGlassRole.addToPolicy(
    new iam.PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [lake.bucketArn],
      conditions: { StringLike: { "s3:prefix": RESTRICTED_LAKE_PREFIXES.map((prefix) => `${prefix}*`) } },
    }),
  );
  // errors/firehose/ objects are written with the lake key. The raw-zone key policy trusts the account root with a
  // principal condition, i.e. it delegates to IAM for that one role: the role also needs the IAM allow.
  lakeKey.grantDecrypt(breakGlassRole);
  rawKey.grantDecrypt(breakGlassRole);
  suppress(breakGlassRole, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "Read access to every object under the restricted prefixes (raw/, errors/firehose/) is the purpose of the break-glass role.",
      appliesTo: [...RESTRICTED_LAKE_PREFIXES.map((prefix) => arnRef(lake, `/${prefix}*`))],
    },
    {
      id: "HIPAA.Security-IAMNoInlinePolicy",
      reason:
        "The break-glass policy belongs to this one role and is reviewed with it; a managed policy could be attached elsewhere.",
    },
  ]);

  const devicesTable = tableFromDefinition(stack, tables.devices, { retain: production });
  const vaultTable = tableFromDefinition(stack, tables.vault, {
    retain: production,
    encryptionKey: vaultKey,
  });
  for (const table of [devicesTable, vaultTable]) {
    suppress(table, [
      {
        id: "HIPAA.Security-DynamoDBInBackupPlan",
        reason:
          "Point-in-time recovery (35 days, continuous) is on; AWS Backup plans are managed at the organization level, not per app.",
      },
    ]);
  }

  stack.addOutputs({
    LakeBucket: lake.bucketName,
    DevicesTable: devicesTable.tableName,
    VaultTable: vaultTable.tableName,
    BreakGlassRole: breakGlassRole.roleArn,
  });

  return {
    alarmTopic,
    devicesTable,
    vaultTable,
    vaultKey,
    tokenKey,
    lake,
    lakeKey,
    rawKey,
    logsKey,
    accessLogsBucket,
    breakGlassRole,
  };
}

/**
 * The one role that administers the raw-zone key: `DRIFTWATCH_KEY_ADMIN_ROLE_ARN`, else the CDK bootstrap's
 * CloudFormation execution role (which creates and updates the key; KMS refuses a policy that locks it out).
 */
export function rawKeyAdminRoleArn(partition: string, account: string, region: string): string {
  return (
    process.env.DRIFTWATCH_KEY_ADMIN_ROLE_ARN ||
    `arn:${partition}:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-${region}`
  );
}

function lakeLifecycleRules(
  lake: ReturnType<typeof stageConfig>["lake"],
  production: boolean,
): s3.LifecycleRule[] {
  const transitions = (days: Array<[s3.StorageClass, number]>, expirationDays?: number) =>
    days
      .filter(([, d]) => expirationDays === undefined || d < expirationDays)
      .map(([storageClass, d]) => ({ storageClass, transitionAfter: Duration.days(d) }));
  return [
    {
      id: "all-abort-incomplete-uploads-and-old-versions",
      abortIncompleteMultipartUploadAfter: Duration.days(7),
      noncurrentVersionExpiration: Duration.days(lake.noncurrentVersionExpirationDays),
    },
    {
      id: "raw-tier-then-expire",
      prefix: "raw/",
      transitions: transitions(
        [
          [s3.StorageClass.INFREQUENT_ACCESS, 30],
          [s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, 90],
        ],
        lake.rawExpirationDays,
      ),
      expiration: Duration.days(lake.rawExpirationDays),
    },
    { id: "errors-expire", prefix: "errors/", expiration: Duration.days(lake.errorsExpirationDays) },
    {
      id: "readings-tier",
      prefix: "readings/",
      transitions: transitions(
        production
          ? [
              [s3.StorageClass.INFREQUENT_ACCESS, lake.readingsInfrequentAccessDays],
              [s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, 365],
            ]
          : [[s3.StorageClass.INFREQUENT_ACCESS, lake.readingsInfrequentAccessDays]],
      ),
    },
    {
      id: "scores-tier",
      prefix: "scores/",
      transitions: transitions([[s3.StorageClass.INFREQUENT_ACCESS, lake.readingsInfrequentAccessDays]]),
    },
  ];
}
