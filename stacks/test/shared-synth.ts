/**
 * The app the stack tests share, synthesized once per run.
 *
 *   let synth: SharedSynth;
 *   beforeAll(async () => { synth = await sharedSynth("test"); });   // or "production"
 *   it("…", () => synth.templates.Scoring.hasResourceProperties("AWS::Lambda::Function", { … }));
 *
 * Synthesis is most of the stacks project's time (SST bundles every function with esbuild, cdk-nag walks every
 * resource), and most test files check stacks of the same app in the same stage. So each configuration of
 * `shared-apps.ts` — the whole app of `sst.config.ts` — is synthesized once, in its own process, as soon as the run
 * starts (`global-setup.ts`), and each test file waits for its result file and reads the templates from it. The
 * templates are those of the whole app as deployed (a stack's exports include what every consumer imports), and
 * `findings` are the cdk-nag findings of the whole app.
 *
 * Outside the stacks project's global setup (no `sharedSynthDir` provided) it synthesizes in this process instead.
 */
import { existsSync, readFileSync } from "node:fs";
import { Template } from "aws-cdk-lib/assertions";
import { inject } from "vitest";
import { SYNTH_TIMEOUT_MS, type SynthResult } from "./harness.ts";
import {
  SHARED_APP_NAMES,
  sharedSynthFiles,
  type SharedAppName,
  type SharedSynthJson,
} from "./shared-apps.ts";

export type SharedSynth = Pick<SynthResult, "templates" | "findings" | "stage">;

const POLL_MS = 200;

/** Resolves once the run's synthesis of `name` has been written, fails as soon as it failed. */
async function awaitResult(dir: string, name: SharedAppName): Promise<SharedSynthJson> {
  const files = sharedSynthFiles(dir, name);
  const deadline = Date.now() + SYNTH_TIMEOUT_MS;
  for (;;) {
    // The writer renames a complete file into place, so an existing result file is whole.
    if (existsSync(files.result)) return JSON.parse(readFileSync(files.result, "utf8")) as SharedSynthJson;
    if (existsSync(files.failed))
      throw new Error(`shared synthesis "${name}" failed:\n${readFileSync(files.failed, "utf8")}`);
    if (Date.now() > deadline)
      throw new Error(`shared synthesis "${name}" not done after ${SYNTH_TIMEOUT_MS} ms (log: ${files.log})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const inProcess = new Map<SharedAppName, Promise<SharedSynthJson>>();

/** The shared app `name` ("test", "production": a stage name of `shared-apps.ts`), synthesized once per run. */
export async function sharedSynth(name: SharedAppName | string): Promise<SharedSynth> {
  if (!SHARED_APP_NAMES.includes(name as SharedAppName))
    throw new Error(`no shared app "${name}" (shared-apps.ts has ${SHARED_APP_NAMES.join(", ")})`);
  return read(name as SharedAppName);
}

async function read(name: SharedAppName): Promise<SharedSynth> {
  const dir = inject("sharedSynthDir");
  let json: SharedSynthJson;
  if (dir) json = await awaitResult(dir, name);
  else {
    if (!inProcess.has(name))
      inProcess.set(
        name,
        import("./shared-synth-build.ts").then(({ synthSharedApp }) => synthSharedApp(name)),
      );
    json = await inProcess.get(name)!;
  }
  const templates: Record<string, Template> = {};
  for (const [stack, template] of Object.entries(json.templates))
    templates[stack] = Template.fromJSON(template);
  return { stage: json.stage, findings: json.findings, templates };
}
