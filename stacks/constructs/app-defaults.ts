import { Aspects, CfnResource, RemovalPolicy, type IAspect } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import type { App } from "sst/constructs";

/**
 * App-wide defaults shared by `sst.config.ts` and the offline stack-test harness (`stacks/test/harness.ts`),
 * so the stacks the tests check are configured exactly like the ones SST deploys.
 */

/** Stages whose data must survive `sst remove` and stack replacement. */
export const RETAINED_STAGES: readonly string[] = ["production"];

export function isProductionStage(stage: string): boolean {
  return RETAINED_STAGES.includes(stage);
}

export const APP_NAME = "driftwatch";
export const DEFAULT_REGION = "us-east-1";

/** Powertools environment every handler gets. */
export function powertoolsEnvironment(stage: string): Record<string, string> {
  return {
    // The stage is part of the service name, so the `service` dimension of every custom metric (and the alarms
    // on it) differs per stage: a dev stage's escalations never move production's alarms.
    POWERTOOLS_SERVICE_NAME: serviceName(stage),
    POWERTOOLS_METRICS_NAMESPACE: "Driftwatch",
    POWERTOOLS_LOG_LEVEL: isProductionStage(stage) ? "INFO" : "DEBUG",
    DRIFTWATCH_STAGE: stage,
  };
}

/** The Powertools service name (metric dimension `service`, log field `service`) of `stage`. */
export function serviceName(stage: string): string {
  return `${APP_NAME}-${stage}`;
}

/**
 * CloudFormation types that hold state and survive stack removal/replacement in production. Everything else (event
 * source mappings, roles, policies, alarms, functions, rules…) is deleted when CloudFormation replaces or removes it,
 * so a replaced event source mapping never lingers enabled next to its successor.
 */
export const STATEFUL_RESOURCE_TYPES: readonly string[] = [
  "AWS::DynamoDB::Table",
  "AWS::S3::Bucket",
  "AWS::KMS::Key",
  "AWS::Kinesis::Stream",
  "AWS::SecretsManager::Secret",
  "AWS::Logs::LogGroup",
  "AWS::Cognito::UserPool",
  // Dead-letter and error queues hold messages awaiting inspection and redrive.
  "AWS::SQS::Queue",
];

/** Retains the stateful resources (by type) and lets CloudFormation delete everything else. */
class ProductionRemovalPolicy implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    node.applyRemovalPolicy(
      STATEFUL_RESOURCE_TYPES.includes(node.cfnResourceType) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    );
  }
}

/**
 * The AWS account that hosts production, from `DRIFTWATCH_PRODUCTION_ACCOUNT`: declared once in the repository's
 * committed `.env` (every `sst` command loads it, over the environment; the account id is not a secret), else the environment
 * (docs/deploy.md "Stage isolation").
 */
export function productionAccount(): string | undefined {
  return process.env.DRIFTWATCH_PRODUCTION_ACCOUNT || undefined;
}

/** Thrown when a stage would be deployed to an account it must not share. */
export class StageAccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StageAccountError";
  }
}

/**
 * Stage isolation guard: every stage's topic rules subscribe to the same device topics, so a non-production stage in
 * the production account would ingest production devices (PHI included). Refuses that, and refuses a production
 * stage whose account is not the declared production account. Fails closed: with no production account declared,
 * no stage synthesizes (a guard that passes when unconfigured would not make the mistake impossible).
 */
export function assertStageAccount(stage: string, account: string, production: string | undefined): void {
  if (isProductionStage(stage)) {
    if (!production)
      throw new StageAccountError(
        `stage "${stage}" is a production stage: set DRIFTWATCH_PRODUCTION_ACCOUNT to the production account id`,
      );
    if (account !== production)
      throw new StageAccountError(
        `stage "${stage}" may only be deployed to the production account ${production}, not ${account}`,
      );
    return;
  }
  if (!production)
    throw new StageAccountError(
      `stage "${stage}": set DRIFTWATCH_PRODUCTION_ACCOUNT (the repository's .env) so a non-production stage can be kept out of the production account`,
    );
  if (account === production)
    throw new StageAccountError(
      `stage "${stage}" is not a production stage and may not be deployed to the production account ${production}: its topic rules would ingest production devices`,
    );
}

/**
 * Stage defaults: non-production stages are removable (`destroy`, buckets emptied on removal), production
 * retains its stateful resources only (`STATEFUL_RESOURCE_TYPES`); every function runs on arm64, a current Node.js runtime, X-Ray active tracing and the
 * Powertools environment. Must be called before the first stack is added.
 */
export function configureApp(app: App): void {
  assertStageAccount(app.stage, app.account, productionAccount());
  if (isProductionStage(app.stage)) Aspects.of(app).add(new ProductionRemovalPolicy());
  else app.setDefaultRemovalPolicy("destroy");
  app.setDefaultFunctionProps({
    runtime: "nodejs22.x",
    architecture: "arm_64",
    tracing: "active",
    memorySize: "512 MB",
    timeout: "30 seconds",
    logRetention: isProductionStage(app.stage) ? "one_year" : "one_month",
    environment: powertoolsEnvironment(app.stage),
  });
}
