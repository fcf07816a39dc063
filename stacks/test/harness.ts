/**
 * Offline stack-test harness: synthesizes SST v2 stacks without an AWS account and runs cdk-nag.
 *
 * Usage (one synth per test file — SST bundles every Function with esbuild during synthesis, so it is slow):
 *
 *   import { beforeAll, describe, expect, it } from "vitest";
 *   import { synthStacks, type SynthResult } from "./harness.ts";
 *   import { Storage } from "../Storage.ts";
 *   import { Scoring } from "../Scoring.ts";
 *
 *   let synth: SynthResult;
 *   beforeAll(async () => { synth = await synthStacks([Storage, Scoring], { stage: "test" }); });
 *   it("has no unsuppressed cdk-nag findings", () => expect(formatFindings(synth.findings)).toEqual([]));
 *   it("…", () => synth.templates.Scoring.hasResourceProperties("AWS::Lambda::Function", { … }));
 *
 * - Pass the stack functions in dependency order (the order `sst.config.ts` adds them); stacks you `use()` must be
 *   in the list. `templates` is keyed by the stack function's name (`Storage`, `Ingest`, …).
 * - The app is configured with `configureApp` (the same defaults as `sst.config.ts`): stage "test" (default) is a
 *   non-production stage (removal policy destroy); pass `{ stage: "production" }` to check retention.
 * - `findings` lists every UNSUPPRESSED cdk-nag error and warning from the AwsSolutions and HIPAA.Security packs
 *   (and rule evaluation errors), deduplicated. Suppress inside the stack with a reason (`suppress()` and
 *   `functionBaselineSuppressions()` in `stacks/constructs/nag.ts`). Resources SST/CDK add to every stack on their
 *   own (SST's CustomResourceHandler, CDK's LogRetention provider) are suppressed by `suppressPlatformResources`.
 * - Requires `NODE_ENV=test` (the vitest `stacks` project sets it): otherwise SST looks up its bootstrap stack.
 * - Several synths in one process are fine (each call builds a fresh App); they run one at a time. Several processes
 *   may synthesize at once (vitest workers, the shared synths of `shared-synth.ts`): each process builds functions
 *   into its own SST work folder, never the repository's `.sst/`.
 * - Most test files read the app the whole run shares (`sharedSynth` in `shared-synth.ts`, synthesized once per run)
 *   instead of synthesizing their own; `synthStacks` is for configurations no other file needs.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { Aspects } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NagMessageLevel,
  type INagLogger,
  type NagLoggerErrorData,
  type NagLoggerNonComplianceData,
} from "cdk-nag";
import { initProject, useProject } from "sst/project.js";
import { App, type StackContext } from "sst/constructs";
import { configureApp, isProductionStage } from "../constructs/app-defaults.ts";
import { suppressPlatformResources } from "../constructs/nag.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StackFn = (ctx: StackContext) => any;

export interface NagFinding {
  /** "AwsSolutions" or "HIPAA.Security". */
  pack: string;
  /** e.g. "AwsSolutions-S1", "HIPAA.Security-S3BucketLoggingEnabled"; with a finding id for granular rules. */
  ruleId: string;
  level: "Error" | "Warning" | "RuleError";
  /** Construct path of the offending resource, e.g. "test-driftwatch-Storage/Lake/Resource". */
  resourcePath: string;
  info: string;
}

export interface SynthResult {
  templates: Record<string, Template>;
  findings: NagFinding[];
  app: App;
  stage: string;
}

export interface SynthOptions {
  /** Stage name, default "test" (non-production). */
  stage?: string;
  /** Skip cdk-nag (faster), default false. */
  skipNag?: boolean;
  /**
   * The declared production account (`DRIFTWATCH_PRODUCTION_ACCOUNT`) during this synth; the app synthesizes in
   * account 123456789012. Default (whatever the shell says): 123456789012 for a production stage and another account
   * for the rest, so the stage guard passes.
   */
  productionAccount?: string;
  /**
   * Bundle every function's code (esbuild), default true. `false` synthesizes every stack as SST does the stacks a
   * filtered `sst deploy <stack>` leaves alone (`isActiveStack`): the same resources, with each function's code an
   * inline placeholder instead of its bundle. For checks of a configuration's resources that never look at code.
   */
  bundle?: boolean;
}

export const SYNTH_ACCOUNT = "123456789012";

/**
 * Time allowed for one synthesis of several stacks (SST bundles every function with esbuild): about 4 minutes on
 * two cores shared with other CPU-bound jobs, so a generous bound that still stops a hung synthesis.
 */
export const SYNTH_TIMEOUT_MS = 900_000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

class CollectingLogger implements INagLogger {
  readonly findings = new Map<string, NagFinding>();

  onNonCompliance(data: NagLoggerNonComplianceData): void {
    if (data.ruleLevel === NagMessageLevel.INFO) return;
    const ruleId = data.findingId ? `${data.ruleId}[${data.findingId}]` : data.ruleId;
    this.add({
      pack: data.nagPackName,
      ruleId,
      level: data.ruleLevel === NagMessageLevel.ERROR ? "Error" : "Warning",
      resourcePath: data.resource.node.path,
      info: data.ruleInfo,
    });
  }

  onError(data: NagLoggerErrorData): void {
    this.add({
      pack: data.nagPackName,
      ruleId: data.ruleId,
      level: "RuleError",
      resourcePath: data.resource.node.path,
      info: data.errorMessage,
    });
  }

  onCompliance(): void {}
  onSuppressed(): void {}
  onSuppressedError(): void {}
  onNotApplicable(): void {}

  private add(finding: NagFinding): void {
    this.findings.set(`${finding.ruleId}|${finding.resourcePath}`, finding);
  }
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * SST's work folder for this process (normally the repository's `.sst/`): it rebuilds each function into
 * `artifacts/<function id>` (deleting the folder first) and regenerates `types/`, so two processes synthesizing the
 * same stage at once would delete each other's bundles. Needed only during a synthesis (the bundles are staged into
 * the cloud assembly), so each synthesis removes it when done; syntheses in one thread run one at a time (test
 * files may run in worker threads of one process: the folder is per process and thread).
 */
const sstOutOfThisProcess = path.join(os.tmpdir(), `driftwatch-sst-${process.pid}-${threadId}`);

/** Synthesizes `stackFns` (in order) offline and runs cdk-nag over the result. */
export async function synthStacks(stackFns: StackFn[], options: SynthOptions = {}): Promise<SynthResult> {
  const { app, findings, stage } = await synthApp(async (app) => {
    configureApp(app);
    for (const fn of stackFns) {
      // app.stack returns a promise for async stack functions.
      await app.stack(fn);
    }
  }, options);
  const templates: Record<string, Template> = {};
  for (const fn of stackFns) {
    const stack = app.node.findChild(app.logicalPrefixedName(fn.name));
    templates[fn.name] = Template.fromStack(stack as unknown as import("aws-cdk-lib").Stack);
  }
  // The templates are in memory now; the cloud assembly (bundled functions as staged assets, ~12 MB) is not needed.
  rmSync(app.outdir, { recursive: true, force: true });
  return { templates, findings, app, stage };
}

export interface AppSynthResult {
  app: App;
  assembly: ReturnType<App["synth"]>;
  findings: NagFinding[];
  stage: string;
}

/**
 * Builds an SST app offline (as `sst deploy` would, account 123456789012), lets `addStacks` configure it and add
 * its stacks, synthesizes it to `options.outdir` (default: a fresh temporary folder) and collects cdk-nag findings.
 * Used by `synthStacks` and by `scripts/synth.ts` (whole app, `sst.config.ts`). Calls run one at a time.
 */
export function synthApp(
  addStacks: (app: App) => void | Promise<void>,
  options: SynthOptions & { outdir?: string } = {},
): Promise<AppSynthResult> {
  const run = queue.then(() => synthNow(addStacks, options));
  queue = run.catch(() => undefined);
  return run;
}

async function synthNow(
  addStacks: (app: App) => void | Promise<void>,
  options: SynthOptions & { outdir?: string },
): Promise<AppSynthResult> {
  if (process.env.NODE_ENV !== "test") {
    throw new Error(
      "offline synthesis needs NODE_ENV=test (the vitest `stacks` project and scripts/synth.ts set it)",
    );
  }
  const stage = options.stage ?? "test";
  const cwd = process.cwd();
  const previousProductionAccount = process.env.DRIFTWATCH_PRODUCTION_ACCOUNT;
  // Never the shell's value (a developer's real production account would fail the guard for account SYNTH_ACCOUNT).
  process.env.DRIFTWATCH_PRODUCTION_ACCOUNT =
    options.productionAccount ?? (isProductionStage(stage) ? SYNTH_ACCOUNT : "210987654321");
  // SST resolves handler paths and writes .sst/ relative to the project root. (A worker thread may not change the
  // directory; vitest's workers start in the root already.)
  if (process.cwd() !== repoRoot) process.chdir(repoRoot);
  try {
    await initProject({ stage, root: repoRoot });
    const project = useProject();
    mkdirSync(sstOutOfThisProcess, { recursive: true });
    project.paths.out = sstOutOfThisProcess;
    project.paths.artifacts = path.join(project.paths.out, "artifacts");
    const app = new App(
      {
        mode: "deploy",
        stage,
        name: project.config.name,
        region: project.config.region ?? "us-east-1",
        account: SYNTH_ACCOUNT,
        ...(options.bundle === false ? { isActiveStack: () => false } : {}),
      },
      // Feature flags from cdk.json, as `sst deploy` passes them.
      {
        outdir: options.outdir ?? mkdtempSync(path.join(os.tmpdir(), "driftwatch-synth-")),
        context: cdkJsonContext(),
      },
    );
    await addStacks(app);
    await app.finish();
    suppressPlatformResources(app);

    const logger = new CollectingLogger();
    if (!options.skipNag) {
      const nagProps = { verbose: true, reports: false, additionalLoggers: [logger] };
      Aspects.of(app).add(new AwsSolutionsChecks(nagProps));
      Aspects.of(app).add(new HIPAASecurityChecks(nagProps));
    }
    const assembly = app.synth();
    return { app, assembly, findings: [...logger.findings.values()], stage };
  } finally {
    rmSync(sstOutOfThisProcess, { recursive: true, force: true });
    if (process.cwd() !== cwd) process.chdir(cwd);
    if (previousProductionAccount === undefined) delete process.env.DRIFTWATCH_PRODUCTION_ACCOUNT;
    else process.env.DRIFTWATCH_PRODUCTION_ACCOUNT = previousProductionAccount;
  }
}

function cdkJsonContext(): Record<string, unknown> {
  const file = path.join(repoRoot, "cdk.json");
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, "utf8")) as { context?: Record<string, unknown> }).context ?? {};
}

/** One line per finding, for readable `expect(formatFindings(findings)).toEqual([])` failures. */
export function formatFindings(findings: NagFinding[]): string[] {
  return findings.map((f) => `${f.level} ${f.ruleId} at ${f.resourcePath}: ${f.info}`);
}
