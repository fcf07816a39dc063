/**
 * The app configurations the stack tests share (names and environment only, no stack code: `global-setup.ts` imports
 * this in vitest's main process). `shared-synth.ts` synthesizes each one once per run; the test files read it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SharedApp {
  stage: string;
  /** Environment during synthesis (set only for its duration in-process; a child process keeps it). */
  env: Record<string, string>;
  /** Stacks of `sst.config.ts` left out (by stack function name). */
  without: string[];
}

export const SHARED_APPS = {
  /** The app exactly as `sst.config.ts` builds it, every stack, in a non-production stage (console from a fixture). */
  test: {
    stage: "test",
    env: { DRIFTWATCH_WEB_PREBUILT: path.join(here, "fixtures", "web-dist") },
    without: [],
  },
  /**
   * Production (retention, alarms, key policies), every stack but Web: production requires the console's domain
   * (CORS origin, sign-in callbacks), and Web's custom domain needs a Route 53 lookup offline synthesis cannot make.
   */
  production: {
    stage: "production",
    env: { DRIFTWATCH_CONSOLE_DOMAIN: "console.driftwatch.example.com" },
    without: ["Web"],
  },
} satisfies Record<string, SharedApp>;

export type SharedAppName = keyof typeof SHARED_APPS;

export const SHARED_APP_NAMES = Object.keys(SHARED_APPS) as SharedAppName[];

/** What a shared synthesis leaves for the test files (JSON, written by the process that synthesized it). */
export interface SharedSynthJson {
  stage: string;
  /** CloudFormation template per stack, keyed by the stack function's name (`Storage`, `Ingest`, …). */
  templates: Record<string, Record<string, unknown>>;
  findings: import("./harness.ts").NagFinding[];
}

/** File names in the run's shared-synthesis folder (provided to the test files as `sharedSynthDir`). */
export const sharedSynthFiles = (dir: string, name: SharedAppName) => ({
  result: path.join(dir, `${name}.json`),
  failed: path.join(dir, `${name}.failed`),
  log: path.join(dir, `${name}.log`),
});

declare module "vitest" {
  export interface ProvidedContext {
    /** Folder of the shared syntheses of this run (`global-setup.ts`). */
    sharedSynthDir: string;
  }
}
