import { App, Stack } from "aws-cdk-lib";
import { aws_lambda as lambda } from "aws-cdk-lib";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import type { ExecutionPolicy } from "@driftwatch/core/escalation/policy";
import {
  EscalationStateMachine,
  type EscalationTaskFunctions,
} from "../../../../stacks/constructs/EscalationStateMachine.ts";

export type TaskFunctionKey = keyof EscalationTaskFunctions;

export interface SynthesizedEscalation {
  /** The Amazon States Language definition exactly as the stack deploys it, with local Lambda ARNs. */
  definition: StateMachineDefinition;
  /** Local function ARN → which task handler it is. */
  functionsByArn: Record<string, TaskFunctionKey>;
}

const LOCAL_ACCOUNT = "000000000000";
const LOCAL_REGION = "us-east-1";

export function localFunctionArn(key: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:driftwatch-local-${key}`;
}

const FUNCTION_KEYS: TaskFunctionKey[] = [
  "openIncident",
  "resolvePolicy",
  "notify",
  "awaitAck",
  "recordEvent",
  "checkQuiet",
];

/**
 * Synthesizes the escalation state machine with the same CDK construct the Escalation stack uses (in a bare CDK
 * app, with placeholder functions) and returns its `DefinitionString`, with `Fn::Join`/`Fn::GetAtt`/`Ref`
 * resolved to local names. No hand-written copy of the workflow exists anywhere.
 */
export function synthesizeEscalationDefinition(fallbackPolicy: ExecutionPolicy): SynthesizedEscalation {
  const app = new App({ outdir: undefined, context: { "aws:cdk:disable-version-reporting": true } });
  const stack = new Stack(app, "DriftwatchLocalEscalation", {
    env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
  });
  const placeholder = (key: TaskFunctionKey) =>
    new lambda.Function(stack, key, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromInline("exports.handler = async () => ({})"),
    });
  const functions = Object.fromEntries(
    FUNCTION_KEYS.map((k) => [k, placeholder(k)]),
  ) as unknown as EscalationTaskFunctions;
  new EscalationStateMachine(stack, "Escalation", { functions, fallbackPolicy });

  const logicalToKey = new Map<string, TaskFunctionKey>();
  for (const key of FUNCTION_KEYS) {
    const fn = functions[key] as lambda.Function;
    logicalToKey.set(stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction), key);
  }

  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const machines = Object.values(template.Resources).filter(
    (r) => r.Type === "AWS::StepFunctions::StateMachine",
  );
  if (machines.length !== 1)
    throw new Error(`expected one state machine in the synthesized template, found ${machines.length}`);

  const functionsByArn: Record<string, TaskFunctionKey> = {};
  const resolve = (value: unknown): string => {
    if (typeof value === "string") return value;
    const v = value as Record<string, unknown>;
    if (v["Fn::Join"]) {
      const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    if (v["Fn::GetAtt"]) {
      const [logicalId, attribute] = v["Fn::GetAtt"] as [string, string];
      const key = logicalToKey.get(logicalId);
      if (!key || attribute !== "Arn")
        throw new Error(`unexpected reference ${logicalId}.${attribute} in the definition`);
      const arn = localFunctionArn(key);
      functionsByArn[arn] = key;
      return arn;
    }
    if (v.Ref === "AWS::Partition") return "aws";
    if (v.Ref === "AWS::Region") return LOCAL_REGION;
    if (v.Ref === "AWS::AccountId") return LOCAL_ACCOUNT;
    if (v.Ref === "AWS::URLSuffix") return "amazonaws.com";
    throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
  };
  const definition = JSON.parse(resolve(machines[0].Properties.DefinitionString)) as StateMachineDefinition;
  return { definition, functionsByArn };
}
