/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation templates are untyped JSON. */
import { beforeAll, describe, expect, it } from "vitest";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { API_ROUTES, apiThrottle } from "../Api.ts";
import { OPERATOR_GROUP, VIEWER_GROUP } from "../Auth.ts";
import { DEV_SERVER_ORIGIN } from "../constructs/console-config.ts";
import { SCORES_COLUMNS } from "@driftwatch/core/backtest/lake-query";
import { LAKE_PROJECTION_START, bytesScannedCutoff } from "../Lake.ts";
import { WEB_ENVIRONMENT_KEYS } from "../Web.ts";
import { SYNTH_TIMEOUT_MS, formatFindings } from "./harness.ts";
import { sharedSynth, type SharedSynth } from "./shared-synth.ts";

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
const all = (t: Template, type: string) => Object.entries(t.findResources(type) as Resources);

/** `{action → resources}` of the role policy of the API function `<Name>Api`. */
function grantsOf(t: Template, name: string): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const [id, policy] of all(t, "AWS::IAM::Policy")) {
    if (!id.startsWith(`${name}Api`)) continue;
    for (const s of policy.Properties.PolicyDocument.Statement as any[]) {
      for (const action of [s.Action].flat() as string[]) {
        grants.set(action, [
          ...(grants.get(action) ?? []),
          ...[s.Resource].flat().map((r) => JSON.stringify(r)),
        ]);
      }
    }
  }
  return grants;
}
const dynamoActions = (g: Map<string, string[]>) =>
  [...g.keys()].filter((a) => a.startsWith("dynamodb:")).sort();
const onlyOn = (g: Map<string, string[]>, prefix: string, pattern: RegExp) =>
  [...g.entries()].filter(([a]) => a.startsWith(prefix)).every(([, rs]) => rs.every((r) => pattern.test(r)));

describe("Auth, Lake, Api and Web stacks (stage test)", () => {
  let synth: SharedSynth;
  beforeAll(async () => {
    // The whole app of sst.config.ts, stage "test", the console from stacks/test/fixtures/web-dist.
    synth = await sharedSynth("test");
  }, SYNTH_TIMEOUT_MS);

  it("passes cdk-nag (AwsSolutions + HIPAA Security) with zero unsuppressed findings", () => {
    expect(formatFindings(synth.findings)).toEqual([]);
  });

  describe("Auth", () => {
    it("is an invitation-only pool with a strong password policy and optional TOTP MFA", () => {
      synth.templates.Auth.hasResourceProperties("AWS::Cognito::UserPool", {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        MfaConfiguration: "OPTIONAL",
        EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
        Policies: {
          PasswordPolicy: {
            MinimumLength: 14,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          },
        },
      });
    });

    it("has the operators and viewers groups", () => {
      const groups = all(synth.templates.Auth, "AWS::Cognito::UserPoolGroup").map(
        ([, g]) => g.Properties.GroupName,
      );
      expect(groups.sort()).toEqual([OPERATOR_GROUP, VIEWER_GROUP].sort());
    });

    it("gives the console a public client: authorization code with PKCE, no secret, callbacks to its origins", () => {
      synth.templates.Auth.hasResourceProperties("AWS::Cognito::UserPoolClient", {
        GenerateSecret: false,
        AllowedOAuthFlows: ["code"],
        AllowedOAuthFlowsUserPoolClient: true,
        CallbackURLs: [`${DEV_SERVER_ORIGIN}/`],
        PreventUserExistenceErrors: "ENABLED",
      });
      const [[, client]] = all(synth.templates.Auth, "AWS::Cognito::UserPoolClient");
      expect(client.Properties.AllowedOAuthFlows).not.toContain("implicit");
    });
  });

  describe("Api", () => {
    it("has exactly the contract's routes, each behind the Cognito JWT authorizer", () => {
      const t = synth.templates.Api;
      const routes = all(t, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
      expect(routes.map((r) => r.RouteKey).sort()).toEqual(Object.keys(API_ROUTES).sort());
      const [[authorizerId, authorizer]] = all(t, "AWS::ApiGatewayV2::Authorizer");
      expect(authorizer.Properties.AuthorizerType).toBe("JWT");
      expect(JSON.stringify(authorizer.Properties.JwtConfiguration.Issuer)).toContain("cognito-idp");
      expect(authorizer.Properties.JwtConfiguration.Audience).toHaveLength(1);
      for (const route of routes) {
        expect(route.AuthorizationType, route.RouteKey).toBe("JWT");
        expect(route.AuthorizerId, route.RouteKey).toEqual({ Ref: authorizerId });
      }
    });

    it("limits CORS to the console's origin, logs access, throttles the stage", () => {
      const t = synth.templates.Api;
      t.hasResourceProperties("AWS::ApiGatewayV2::Api", {
        CorsConfiguration: { AllowOrigins: [DEV_SERVER_ORIGIN], AllowCredentials: false },
      });
      const [[, stage]] = all(t, "AWS::ApiGatewayV2::Stage");
      expect(stage.Properties.AccessLogSettings.DestinationArn).toBeDefined();
      expect(stage.Properties.DefaultRouteSettings).toMatchObject({
        ThrottlingRateLimit: apiThrottle("test").rate,
        ThrottlingBurstLimit: apiThrottle("test").burst,
      });
    });

    it("grants each handler only what it calls", () => {
      const t = synth.templates.Api;
      const thresholds = grantsOf(t, "Thresholds");
      expect(dynamoActions(thresholds)).toEqual(
        ["BatchGetItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan"].map((a) => `dynamodb:${a}`),
      );
      expect(onlyOn(thresholds, "dynamodb:", /Thresholds|ThresholdHistory|thresholdHistory/i)).toBe(true);
      expect(thresholds.get("dynamodb:PutItem")!.some((r) => /Import/.test(r))).toBe(true); // thresholds table
      expect(thresholds.has("states:SendTaskSuccess")).toBe(false);

      const devices = grantsOf(t, "Devices");
      for (const write of ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"])
        expect(devices.has(write), write).toBe(false);

      const metrics = grantsOf(t, "Metrics");
      expect(dynamoActions(metrics)).toEqual(["dynamodb:Query"]);

      const incidents = grantsOf(t, "Incidents");
      expect(dynamoActions(incidents)).toEqual(
        ["GetItem", "PutItem", "Query", "UpdateItem"].map((a) => `dynamodb:${a}`),
      );
      expect(incidents.get("states:SendTaskSuccess")).toHaveLength(1);

      expect(dynamoActions(grantsOf(t, "Me"))).toEqual([]);

      const backtest = grantsOf(t, "Backtest");
      expect(backtest.has("athena:StartQueryExecution")).toBe(true);
      expect(backtest.get("athena:StartQueryExecution")!.join()).toContain("workgroup/test-driftwatch-lake");
      expect(backtest.has("glue:GetTable")).toBe(true);
      expect(backtest.get("s3:GetObject")!.join()).not.toMatch(/raw\//);
      expect(dynamoActions(backtest)).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem"]);
    });

    it("tells the backtest function where the lake table and workgroup are", () => {
      synth.templates.Api.hasResourceProperties("AWS::Lambda::Function", {
        Environment: {
          Variables: Match.objectLike({
            LAKE_DATABASE: "test_driftwatch_lake",
            LAKE_WORKGROUP: "test-driftwatch-lake",
          }),
        },
      });
    });
  });

  describe("Lake", () => {
    it("projects the date/hour partitions of readings/ and scores/", () => {
      const tables = all(synth.templates.Lake, "AWS::Glue::Table").map(([, x]) => x.Properties.TableInput);
      expect(tables.map((x) => x.Name).sort()).toEqual(["readings", "scores"]);
      for (const table of tables) {
        expect(table.PartitionKeys.map((k: any) => k.Name)).toEqual(["date", "hour"]);
        expect(table.Parameters).toMatchObject({
          "projection.enabled": "true",
          "projection.date.type": "date",
          "projection.date.format": "yyyy-MM-dd",
          "projection.date.range": `${LAKE_PROJECTION_START},NOW`,
          "projection.hour.type": "integer",
          "projection.hour.range": "0,23",
          "projection.hour.digits": "2",
        });
        expect(JSON.stringify(table.Parameters["storage.location.template"])).toContain(
          `/${table.Name}/date=\${date}/hour=\${hour}/`,
        );
        expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
          "org.openx.data.jsonserde.JsonSerDe",
        );
      }
      const readings = tables.find((x) => x.Name === "readings");
      expect(readings.StorageDescriptor.Columns.map((c: any) => c.Name)).toContain("deviceid");
      // The backtest's scores query (archived verdicts, ADR 0903) reads only columns the scores table has.
      const scores = tables.find((x) => x.Name === "scores");
      const scoreColumns = scores.StorageDescriptor.Columns.map((c: any) => c.Name);
      for (const column of SCORES_COLUMNS) expect(scoreColumns).toContain(column);
    });

    it("has a workgroup that enforces KMS-encrypted results and a bytes-scanned cutoff", () => {
      synth.templates.Lake.hasResourceProperties("AWS::Athena::WorkGroup", {
        WorkGroupConfiguration: {
          EnforceWorkGroupConfiguration: true,
          BytesScannedCutoffPerQuery: bytesScannedCutoff("test"),
          ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: "SSE_KMS" } },
        },
      });
    });
  });

  describe("Web", () => {
    it("serves the console from CloudFront, built with the API URL and the pool ids", () => {
      const t = synth.templates.Web;
      expect(all(t, "AWS::CloudFront::Distribution")).toHaveLength(1);
      const text = JSON.stringify(t.toJSON());
      for (const key of WEB_ENVIRONMENT_KEYS) expect(text, key).toContain(key);
    });

    it("keeps the site's bucket private, TLS-only, versioned and access-logged", () => {
      const t = synth.templates.Web;
      t.hasResourceProperties("AWS::S3::Bucket", {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: "Enabled" },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: "console/" }),
      });
      const statements = Object.values(t.findResources("AWS::S3::BucketPolicy") as Resources).flatMap(
        (p) => p.Properties.PolicyDocument.Statement as any[],
      );
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      );
    });
  });
});
