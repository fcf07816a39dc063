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
    POWERTOOLS_SERVICE_NAME: APP_NAME,
    POWERTOOLS_METRICS_NAMESPACE: "Driftwatch",
    POWERTOOLS_LOG_LEVEL: isProductionStage(stage) ? "INFO" : "DEBUG",
    DRIFTWATCH_STAGE: stage,
  };
}

/**
 * Stage defaults: non-production stages are removable (`destroy`, buckets emptied on removal), production
 * retains everything; every function runs on arm64, a current Node.js runtime, X-Ray active tracing and the
 * Powertools environment. Must be called before the first stack is added.
 */
export function configureApp(app: App): void {
  app.setDefaultRemovalPolicy(isProductionStage(app.stage) ? "retain" : "destroy");
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
