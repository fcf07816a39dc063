/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation templates are untyped JSON. */
import { beforeAll, describe, expect, it } from "vitest";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { tables } from "@driftwatch/functions/shared/tables";
import { formatFindings } from "./harness.ts";
import { sharedSynth, type SharedSynth } from "./shared-synth.ts";

type Resources = Record<
  string,
  { Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }
>;

function logicalIdByDescription(template: Template, fragment: string): string {
  const keys = template.findResources("AWS::KMS::Key") as Resources;
  const id = Object.keys(keys).find((k) => String(keys[k].Properties.Description).includes(fragment));
  if (!id) throw new Error(`no key with description containing "${fragment}"`);
  return id;
}

function bucketWith(
  template: Template,
  predicate: (props: Record<string, any>) => boolean,
): Record<string, any> {
  const buckets = template.findResources("AWS::S3::Bucket") as Resources;
  const found = Object.values(buckets).find((b) => predicate(b.Properties));
  if (!found) throw new Error("bucket not found");
  return found.Properties;
}

const isLake = (p: Record<string, any>) => p.LoggingConfiguration !== undefined;

describe.each(["test", "production"])("Storage stack (stage %s)", (stage) => {
  let synth: SharedSynth;
  let t: Template;
  beforeAll(async () => {
    synth = await sharedSynth(stage);
    t = synth.templates.Storage;
  });

  it("passes cdk-nag (AwsSolutions + HIPAA Security) with zero unsuppressed findings", () => {
    expect(formatFindings(synth.findings)).toEqual([]);
  });

  it("creates the devices and vault tables from the shared key schemas, with PITR", () => {
    for (const def of [tables.devices, tables.vault]) {
      const keySchema = [{ AttributeName: def.partitionKey.name, KeyType: "HASH" }];
      const sortKey = (def as { sortKey?: { name: string } }).sortKey;
      if (sortKey) keySchema.push({ AttributeName: sortKey.name, KeyType: "RANGE" });
      t.hasResourceProperties("AWS::DynamoDB::Table", {
        KeySchema: keySchema,
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: stage === "production",
      });
    }
    t.resourceCountIs("AWS::DynamoDB::Table", 2);
  });

  it("encrypts the vault with its own customer-managed key", () => {
    const vaultKeyId = logicalIdByDescription(t, "PHI vault");
    t.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: Match.arrayWith([{ AttributeName: tables.vault.partitionKey.name, KeyType: "HASH" }]),
      SSESpecification: {
        SSEEnabled: true,
        SSEType: "KMS",
        KMSMasterKeyId: { "Fn::GetAtt": [vaultKeyId, "Arn"] },
      },
    });
  });

  it("turns rotation on for every symmetric key; the token key is an HMAC key", () => {
    const keys = t.findResources("AWS::KMS::Key") as Resources;
    for (const [id, key] of Object.entries(keys)) {
      if (key.Properties.KeySpec === "HMAC_256") {
        expect(key.Properties.KeyUsage, id).toBe("GENERATE_VERIFY_MAC");
      } else {
        expect(key.Properties.EnableKeyRotation, id).toBe(true);
      }
    }
    expect(Object.values(keys).filter((k) => k.Properties.KeySpec === "HMAC_256")).toHaveLength(1);
  });

  it("encrypts the lake with its CMK, blocks public access, versions, logs access", () => {
    const lakeKeyId = logicalIdByDescription(t, "data lake default encryption");
    const lake = bucketWith(t, isLake);
    expect(lake.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
      ServerSideEncryptionByDefault: {
        SSEAlgorithm: "aws:kms",
        KMSMasterKeyID: { "Fn::GetAtt": [lakeKeyId, "Arn"] },
      },
      BucketKeyEnabled: true,
    });
    expect(lake.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(lake.VersioningConfiguration).toEqual({ Status: "Enabled" });
    expect(lake.LoggingConfiguration.DestinationBucketName).toEqual({
      Ref: expect.stringMatching(/^AccessLogs/),
    });
  });

  it("has lifecycle rules for raw/, errors/ and readings/", () => {
    const rules: Array<Record<string, any>> = bucketWith(t, isLake).LifecycleConfiguration.Rules;
    const byPrefix = (prefix: string) => rules.find((r) => r.Prefix === prefix);
    const raw = byPrefix("raw/");
    expect(raw?.ExpirationInDays).toBe(stage === "production" ? 365 : 30);
    if (stage === "production") {
      expect(raw?.Transitions).toEqual([
        { StorageClass: "STANDARD_IA", TransitionInDays: 30 },
        { StorageClass: "GLACIER_IR", TransitionInDays: 90 },
      ]);
    }
    expect(byPrefix("errors/")?.ExpirationInDays).toBeGreaterThan(0);
    expect(byPrefix("readings/")?.Transitions?.[0]).toEqual({
      StorageClass: "STANDARD_IA",
      TransitionInDays: 30,
    });
    expect(rules.some((r) => r.AbortIncompleteMultipartUpload?.DaysAfterInitiation === 7)).toBe(true);
  });

  it("only allows TLS to both buckets", () => {
    const policies = t.findResources("AWS::S3::BucketPolicy") as Resources;
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: "Deny",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      );
    }
  });

  it("denies reading raw/ and errors/firehose/ to everyone but the break-glass role", () => {
    const policies = Object.values(t.findResources("AWS::S3::BucketPolicy") as Resources);
    const statements = policies.flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>,
    );
    const deny = statements.find((s) => s.Sid === "DenyReadingRestrictedZonesExceptBreakGlass");
    expect(deny?.Effect).toBe("Deny");
    expect(JSON.stringify(deny?.Resource)).toContain("/raw/*");
    expect(JSON.stringify(deny?.Resource)).toContain("/errors/firehose/*");
    expect(JSON.stringify(deny?.Condition.ArnNotEquals["aws:PrincipalArn"])).toContain(
      `role/${stage}-driftwatch-raw-zone-break-glass`,
    );
  });

  it("lets only the Firehose and lake-writer roles (write, via S3) and the break-glass role (read, via S3) use the raw-zone key", () => {
    const rawKey = (t.findResources("AWS::KMS::Key") as Resources)[logicalIdByDescription(t, "raw/ zone")];
    const statements: Array<Record<string, any>> = rawKey.Properties.KeyPolicy.Statement;
    // No statement delegates use of the key to the account (no kms:* / Decrypt for root without a principal condition).
    for (const s of statements) {
      const actions = ([] as string[]).concat(s.Action);
      expect(actions).not.toContain("kms:*");
      const uses = actions.some((a) => /^kms:(Decrypt|Encrypt|GenerateDataKey|ReEncrypt)/.test(a));
      if (uses) {
        expect(s.Condition?.ArnEquals?.["aws:PrincipalArn"], s.Sid).toBeDefined();
        expect(JSON.stringify(s.Condition?.StringEquals?.["kms:ViaService"])).toContain("s3.");
      }
    }
    const principalOf = (sid: string) =>
      JSON.stringify(statements.find((s) => s.Sid === sid)?.Condition.ArnEquals["aws:PrincipalArn"]);
    expect(principalOf("FirehoseWritesRawZoneThroughS3")).toContain(
      `role/${stage}-driftwatch-ingest-firehose`,
    );
    expect(principalOf("LakeWriterWritesRawZoneThroughS3")).toContain(
      `role/${stage}-driftwatch-ingest-lake-writer`,
    );
    expect(principalOf("BreakGlassReadsRawZoneThroughS3")).toContain(
      `role/${stage}-driftwatch-raw-zone-break-glass`,
    );
    const readers = statements.filter((s) => ([] as string[]).concat(s.Action).includes("kms:Decrypt"));
    expect(readers.map((s) => s.Sid).sort()).toEqual([
      "BreakGlassReadsRawZoneThroughS3",
      "FirehoseWritesRawZoneThroughS3",
    ]);
  });

  it("gives the break-glass role read on the restricted prefixes and decrypt on the raw and lake keys", () => {
    const policy = Object.values(t.findResources("AWS::IAM::Policy") as Resources).find((p) =>
      JSON.stringify(p.Properties.Roles).includes("BreakGlassRole"),
    )!;
    const statements: Array<Record<string, any>> = policy.Properties.PolicyDocument.Statement;
    const decrypt = statements.filter((s) => ([] as string[]).concat(s.Action).includes("kms:Decrypt"));
    const keyIds = decrypt.flatMap((s) => [].concat(s.Resource).map((r: any) => r["Fn::GetAtt"][0])).sort();
    expect(keyIds).toEqual(
      [logicalIdByDescription(t, "data lake"), logicalIdByDescription(t, "raw/ zone")].sort(),
    );
    const actions = statements.flatMap((s) => [].concat(s.Action));
    for (const action of actions)
      expect(action).not.toMatch(/^s3:(Put|Delete)|^kms:(Encrypt|GenerateDataKey)/);
  });

  it("requires MFA to assume the break-glass role", () => {
    t.hasResourceProperties("AWS::IAM::Role", {
      RoleName: `${stage}-driftwatch-raw-zone-break-glass`,
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } })],
      },
    });
  });

  it(
    stage === "production"
      ? "retains data resources"
      : "destroys data resources and empties buckets on removal",
    () => {
      const expected = stage === "production" ? "Retain" : "Delete";
      for (const type of ["AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key"]) {
        for (const [id, resource] of Object.entries(t.findResources(type) as Resources)) {
          expect(resource.DeletionPolicy, id).toBe(expected);
          expect(resource.UpdateReplacePolicy, id).toBe(expected);
        }
      }
      const autoDelete = Object.keys(t.findResources("Custom::S3AutoDeleteObjects"));
      expect(autoDelete).toHaveLength(stage === "production" ? 0 : 2);
    },
  );
});
