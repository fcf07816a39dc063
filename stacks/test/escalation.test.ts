import { beforeAll, describe, expect, it } from "vitest";
import { formatFindings } from "./harness.ts";
import { sharedSynth, type SharedSynth } from "./shared-synth.ts";

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

describe("Escalation stack", () => {
  let synth: SharedSynth;
  beforeAll(async () => {
    synth = await sharedSynth("test");
  });
  const t = () => synth.templates.Escalation;
  const resources = (type: string) =>
    Object.entries(
      t().toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).filter(([, r]) => r.Type === type);

  it("has no unsuppressed cdk-nag findings (AwsSolutions, HIPAA.Security)", () => {
    expect(formatFindings(synth.findings)).toEqual([]);
  });

  it("runs a Standard state machine with logging at ALL levels and X-Ray tracing", () => {
    t().hasResourceProperties("AWS::StepFunctions::StateMachine", {
      StateMachineType: "STANDARD",
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: "ALL", IncludeExecutionData: true },
      StateMachineName: "test-driftwatch-escalation",
    });
  });

  it("waits for acknowledgement with a task token and the tier's timeout, in JSONPath", () => {
    const [, machine] = resources("AWS::StepFunctions::StateMachine")[0];
    const parts = (machine.Properties.DefinitionString as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1];
    const text = parts.map((p) => (typeof p === "string" ? p : "ARN")).join("");
    const definition = JSON.parse(text) as {
      QueryLanguage?: string;
      States: Record<string, Record<string, unknown>>;
    };
    expect(definition.QueryLanguage ?? "JSONPath").toBe("JSONPath");
    expect(JSON.stringify(definition)).not.toContain('"Assign"');
    const wait = definition.States.AwaitAck;
    expect(wait.Resource).toMatch(/^arn:.+:states:::lambda:invoke\.waitForTaskToken$/);
    expect(wait.TimeoutSecondsPath).toBe("$.Payload.ackTimeoutSeconds");
    expect(JSON.stringify(wait.Catch)).toContain("States.Timeout");
    expect(JSON.stringify(definition.States.Notify.Retry)).toContain("ChannelUnavailableError");
    expect(definition.States.QuietWait.SecondsPath).toBe("$.quiet.waitSeconds");
  });

  it("encrypts every SNS topic with a customer-managed key and enforces TLS", () => {
    const topics = resources("AWS::SNS::Topic");
    expect(topics.length).toBe(2);
    for (const [, topic] of topics) expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    t().hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    const topicPolicies = resources("AWS::SNS::TopicPolicy");
    expect(topicPolicies.length).toBe(2);
    expect(JSON.stringify(topicPolicies)).toContain('"aws:SecureTransport":"false"');
  });

  it("grants least privilege: no wildcard actions, no Resource '*' outside the state machine's log/X-Ray needs", () => {
    // CDK's/SST's own deploy-time providers (log retention, stack metadata) are platform resources, not ours.
    const ours = resources("AWS::IAM::Policy").filter(
      ([id]) => !id.startsWith("LogRetention") && !id.startsWith("CustomResourceHandler"),
    );
    expect(ours.length).toBeGreaterThanOrEqual(8);
    for (const [id, policy] of ours) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      for (const s of statements) {
        const actions = ([] as string[]).concat(s.Action);
        for (const action of actions) expect(action, `${id}: ${action}`).not.toMatch(/\*$/);
        const isStateMachineRole = id.startsWith("EscalationStateMachineRole");
        const xray = actions.every((a) => a.startsWith("xray:"));
        if (s.Resource === "*" && !isStateMachineRole && !xray)
          throw new Error(`${id} uses Resource "*" for ${actions.join(",")}`);
      }
    }
  });

  it("keeps incidents and used link nonces in DynamoDB with PITR; nonces expire with TTL", () => {
    t().hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: [{ IndexName: "byEntity" }],
    });
    t().hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [{ AttributeName: "nonce", KeyType: "HASH" }],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
  });

  it("exposes the acknowledge handler as a Function URL and passes it to the notifier", () => {
    t().hasResourceProperties("AWS::Lambda::Url", { AuthType: "NONE" });
    const fns = resources("AWS::Lambda::Function");
    const notify = fns.find(([, f]) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes("SNS_TOPIC_ARNS"),
    );
    expect(notify).toBeDefined();
    const env = (notify![1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(env.ACK_BASE_URL)).toContain("FunctionUrl");
    expect(env.ACK_SIGNING_SECRET_ARN).toBeDefined();
    const policy = fns.find(([, f]) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes("ESCALATION_POLICIES"),
    );
    const catalogue = JSON.parse(
      (policy![1].Properties.Environment as { Variables: Record<string, string> }).Variables
        .ESCALATION_POLICIES,
    );
    expect(catalogue.default.tiers.map((tier: { channels: string[] }) => tier.channels[0])).toEqual([
      "sns:tier-1",
      "sns:tier-2",
    ]);
  });

  it("alarms on unacknowledged incidents, undelivered tiers, step errors and failed executions", () => {
    for (const metric of ["IncidentsUnacknowledged", "TierUndelivered", "EscalationStepErrors"]) {
      t().hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: metric,
        Namespace: "Driftwatch",
        Threshold: 1,
      });
    }
    t().hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ExecutionsFailed",
      Namespace: "AWS/States",
    });
  });

  it("runs every task function on arm64 with X-Ray", () => {
    const fns = resources("AWS::Lambda::Function").filter(
      ([id]) => !id.startsWith("CustomResource") && !id.startsWith("LogRetention"),
    );
    expect(fns.length).toBeGreaterThanOrEqual(7);
    for (const [, f] of fns) {
      expect(f.Properties.Architectures).toEqual(["arm64"]);
      expect(f.Properties.TracingConfig).toEqual({ Mode: "Active" });
    }
  });
});
