/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation templates are untyped JSON. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Template } from "aws-cdk-lib/assertions";
import {
  STATEFUL_RESOURCE_TYPES,
  StageAccountError,
  assertStageAccount,
  serviceName,
} from "../constructs/app-defaults.ts";
import { escalationConfig, executionTimeoutSeconds } from "../constructs/escalation-config.ts";
import { Escalation } from "../Escalation.ts";
import { Ingest } from "../Ingest.ts";
import { Monitoring } from "../Monitoring.ts";
import { Scoring } from "../Scoring.ts";
import { Storage, rawKeyAdminRoleArn } from "../Storage.ts";
import { SYNTH_ACCOUNT, SYNTH_TIMEOUT_MS, formatFindings, synthStacks } from "./harness.ts";
import { sharedSynth, type SharedSynth } from "./shared-synth.ts";

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }
>;
const pipeline = [Storage, Ingest, Escalation, Scoring, Monitoring];

/** An ARN as CloudFormation renders it (`Fn::Join` with the partition), as text in partition "aws". */
function arnText(value: unknown): string {
  if (typeof value === "string") return value;
  const [, parts] = (value as { "Fn::Join": [string, unknown[]] })["Fn::Join"];
  return parts
    .map((p) =>
      typeof p === "string"
        ? p
        : (p as { Ref?: string }).Ref === "AWS::Partition"
          ? "aws"
          : JSON.stringify(p),
    )
    .join("");
}

/**
 * Imports by Monitoring that would block removing an alarm or an escalation tier: exports of the pipeline stacks
 * that name an alarm or a topic. (Storage's shared Alarms topic is never removed; importing it is harmless.)
 */
const blockingImports = (t: Template) =>
  imports(t).filter((x) => /(Ingest|Scoring|Escalation):.*(Alarm|Topic)/.test(x));

/** Every `Fn::ImportValue` in a template (export names). */
function imports(t: Template): string[] {
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "Fn::ImportValue") found.push(JSON.stringify(x));
        else walk(x);
      }
    }
  };
  walk(t.toJSON());
  return found;
}

describe("stage isolation guard (issue 12.2)", () => {
  it("refuses a non-production stage in the production account", () => {
    expect(() => assertStageAccount("alice", "111111111111", "111111111111")).toThrow(StageAccountError);
    expect(() => assertStageAccount("alice", "111111111111", "111111111111")).toThrow(
      /not a production stage and may not be deployed to the production account 111111111111/,
    );
    expect(() => assertStageAccount("alice", "222222222222", "111111111111")).not.toThrow();
  });

  it("fails closed: with no production account declared, no stage synthesizes", () => {
    expect(() => assertStageAccount("alice", "222222222222", undefined)).toThrow(
      /set DRIFTWATCH_PRODUCTION_ACCOUNT/,
    );
  });

  it("refuses production outside the declared production account, or with none declared", () => {
    expect(() => assertStageAccount("production", "222222222222", "111111111111")).toThrow(
      /only be deployed to the production account 111111111111/,
    );
    expect(() => assertStageAccount("production", "111111111111", undefined)).toThrow(
      /set DRIFTWATCH_PRODUCTION_ACCOUNT/,
    );
    expect(() => assertStageAccount("production", "111111111111", "111111111111")).not.toThrow();
  });

  it(
    "stops synthesis of a personal stage in the production account",
    async () => {
      await expect(
        synthStacks([Storage], { stage: "bob", productionAccount: SYNTH_ACCOUNT, skipNag: true }),
      ).rejects.toThrow(StageAccountError);
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe("production stage: removal, keys, topics, timeouts, metrics (issue 12.2–12.5)", () => {
  let synth: SharedSynth;
  beforeAll(async () => {
    // Every stack but Web, with the console's domain that production requires (shared-apps.ts).
    synth = await sharedSynth("production");
  }, SYNTH_TIMEOUT_MS);

  it("passes cdk-nag with zero unsuppressed findings", () => {
    expect(formatFindings(synth.findings)).toEqual([]);
  });

  it("retains only stateful resources; mappings, roles, alarms, functions and rules are deleted", () => {
    const seen = new Set<string>();
    for (const [name, t] of Object.entries(synth.templates)) {
      for (const [id, r] of Object.entries(t.toJSON().Resources as Resources)) {
        if (r.Type.startsWith("Custom::") || r.Type === "AWS::CDK::Metadata") continue;
        seen.add(r.Type);
        const expected = STATEFUL_RESOURCE_TYPES.includes(r.Type) ? "Retain" : "Delete";
        expect(r.DeletionPolicy ?? "Delete", `${name}/${id} (${r.Type})`).toBe(expected);
        // On replacement too: a replaced mapping, role or alarm is deleted, never kept next to its successor.
        expect(r.UpdateReplacePolicy ?? "Delete", `${name}/${id} (${r.Type}) on replacement`).toBe(expected);
      }
    }
    // The resource kinds the issue names are all present and were checked.
    for (const type of [
      "AWS::Lambda::EventSourceMapping",
      "AWS::IAM::Role",
      "AWS::CloudWatch::Alarm",
      "AWS::DynamoDB::Table",
      "AWS::S3::Bucket",
      "AWS::KMS::Key",
      "AWS::Kinesis::Stream",
      "AWS::SecretsManager::Secret",
      "AWS::Logs::LogGroup",
      "AWS::Cognito::UserPool",
      "AWS::Lambda::Function",
      "AWS::IoT::TopicRule",
    ])
      expect(seen, type).toContain(type);
  });

  it("raw-zone key: administration by one named role, grant creation denied to everyone else", () => {
    const t = synth.templates.Storage;
    const keys = t.findResources("AWS::KMS::Key") as Resources;
    const raw = Object.values(keys).find((k) => String(k.Properties.Description).includes("raw/ zone"))!;
    const statements = raw.Properties.KeyPolicy.Statement as any[];
    const admin = statements.find((s) => s.Sid === "KeyAdministrationByNamedRole");
    const adminArn = rawKeyAdminRoleArn("aws", SYNTH_ACCOUNT, "us-east-1");
    expect(arnText(admin.Principal.AWS)).toBe(adminArn);
    expect(admin.Action).toEqual(expect.arrayContaining(["kms:Create*", "kms:Put*"]));
    const deny = statements.find((s) => s.Sid === "DenyGrantsAndPolicyChangesToOthers");
    expect(deny).toMatchObject({
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["kms:CreateGrant", "kms:PutKeyPolicy"],
    });
    expect(arnText(deny.Condition.ArnNotEquals["aws:PrincipalArn"])).toBe(adminArn);
    // Nothing else lets the account (i.e. IAM) administer or use the key without a principal condition.
    for (const s of statements.filter((x) => x.Effect !== "Deny" && x !== admin)) {
      expect(s.Condition?.ArnEquals?.["aws:PrincipalArn"], s.Sid).toBeDefined();
      expect(
        s.Action.some((a: string) => /^kms:(Create|Put)/.test(a)),
        s.Sid,
      ).toBe(false);
    }
  });

  it("alarms topic: SSL-only and an explicit Allow for CloudWatch of this account", () => {
    const t = synth.templates.Storage;
    const policies = Object.values(t.findResources("AWS::SNS::TopicPolicy") as Resources);
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    const allow = statements.find((s) => s.Sid === "CloudWatchAlarmsOfThisAccountPublish");
    expect(allow).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Condition: { StringEquals: { "aws:SourceAccount": SYNTH_ACCOUNT } },
    });
  });

  it("pipeline functions get GetItem/BatchGetItem only on the devices table", () => {
    // The devices table's logical id is `Devices<hash>` (an import of its ARN in these stacks).
    const devicesTableRef = (v: unknown) => /Devices[0-9A-F]{8}/.test(JSON.stringify(v));
    for (const name of ["Ingest", "Scoring"]) {
      const policies = Object.values(synth.templates[name].findResources("AWS::IAM::Policy") as Resources);
      const onDevices = policies
        .flatMap((p) => p.Properties.PolicyDocument.Statement as any[])
        .filter((s) => devicesTableRef(s.Resource));
      expect(onDevices.length, name).toBeGreaterThan(0);
      for (const s of onDevices)
        expect([s.Action].flat().sort(), name).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem"]);
    }
  });

  it("the escalation state machine has an overall execution timeout", () => {
    const [sm] = Object.values(
      synth.templates.Escalation.findResources("AWS::StepFunctions::StateMachine") as Resources,
    );
    const text = JSON.stringify(sm.Properties.DefinitionString);
    const expected = executionTimeoutSeconds(escalationConfig("production"));
    expect(text).toContain(`\\"TimeoutSeconds\\":${expected}`);
    expect(expected).toBeLessThan(365 * 24 * 3600);
    // At least the slowest walk through every tier and round.
    expect(expected).toBeGreaterThanOrEqual((1 + 1) * (900 + 900));
  });

  it("custom-metric alarms carry the stage in their dimensions", () => {
    for (const name of ["Escalation", "Monitoring"]) {
      const alarms = Object.values(
        synth.templates[name].findResources("AWS::CloudWatch::Alarm") as Resources,
      );
      const custom = alarms.filter((a) => a.Properties.Namespace === "Driftwatch");
      for (const a of custom)
        expect(a.Properties.Dimensions).toEqual([{ Name: "service", Value: serviceName("production") }]);
      if (name === "Escalation") expect(custom.length).toBeGreaterThan(0);
    }
    const functions = Object.values(
      synth.templates.Scoring.findResources("AWS::Lambda::Function") as Resources,
    );
    for (const f of functions.filter((x) => x.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME))
      expect(f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe("driftwatch-production");
  });

  it("Monitoring refers to other stacks' alarms and tier topics by name, never by an import", () => {
    expect(imports(synth.templates.Monitoring).length).toBeGreaterThan(0); // the check sees imports at all
    expect(blockingImports(synth.templates.Monitoring)).toEqual([]);
  });
});

describe("changing the escalation config (issue 12.3)", () => {
  let dir: string;
  const previous = process.env.DRIFTWATCH_CONFIG_DIR;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "driftwatch-config-"));
    process.env.DRIFTWATCH_CONFIG_DIR = dir;
    const tier = (name: string) => ({ name, ackTimeoutSeconds: 120, emails: [], sms: [] });
    writeFileSync(
      path.join(dir, "escalation.threetiers.json"),
      JSON.stringify({ tiers: [tier("a"), tier("b"), tier("c")], repeat: 2 }),
    );
    writeFileSync(path.join(dir, "escalation.onetier.json"), JSON.stringify({ tiers: [tier("a")] }));
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.DRIFTWATCH_CONFIG_DIR;
    else process.env.DRIFTWATCH_CONFIG_DIR = previous;
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "synthesizes with tiers added and removed; Monitoring never imports a tier or an alarm",
    async () => {
      for (const [stage, tiers] of [
        ["threetiers", 3],
        ["onetier", 1],
      ] as const) {
        // Tiers and imports are resources, not code: no function is bundled (the shared syntheses bundle them all).
        const synth = await synthStacks(pipeline, { stage, skipNag: true, bundle: false });
        synth.templates.Escalation.resourceCountIs("AWS::SNS::Topic", tiers);
        expect(blockingImports(synth.templates.Monitoring), stage).toEqual([]);
      }
    },
    2 * SYNTH_TIMEOUT_MS,
  );
});
