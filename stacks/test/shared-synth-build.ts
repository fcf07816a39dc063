/**
 * Synthesizes one shared app configuration (`shared-apps.ts`) through the offline harness and returns it as JSON.
 * Run by `synth-shared-app.ts` in a child process that `global-setup.ts` starts when the run starts, or in-process by
 * `sharedSynth` when no run-wide synthesis is provided (a file run outside the `stacks` project's global setup).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { App } from "sst/constructs";
import { synthApp, type StackFn } from "./harness.ts";
import { SHARED_APPS, type SharedAppName, type SharedSynthJson } from "./shared-apps.ts";

export async function synthSharedApp(name: SharedAppName): Promise<SharedSynthJson> {
  const { stage, env, without } = SHARED_APPS[name];
  const { default: config } = await import("../../sst.config.ts");
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const outdir = mkdtempSync(path.join(os.tmpdir(), "driftwatch-synth-"));
  try {
    const { app, assembly, findings } = await synthApp(
      (app) => {
        // `sst.config.ts` adds every stack with `app.stack(fn)`; leave out the configuration's `without` stacks.
        const add = app.stack.bind(app) as (fn: StackFn) => unknown;
        (app as { stack: (fn: StackFn) => unknown }).stack = (fn: StackFn) =>
          (without as readonly string[]).includes(fn.name) ? app : add(fn);
        config.stacks(app);
      },
      { stage, outdir },
    );
    const prefix = (app as App).logicalPrefixedName("");
    const templates: SharedSynthJson["templates"] = {};
    for (const artifact of assembly.stacks) {
      if (!artifact.stackName.startsWith(prefix)) throw new Error(`unexpected stack ${artifact.stackName}`);
      templates[artifact.stackName.slice(prefix.length)] = artifact.template as Record<string, unknown>;
    }
    return { stage, templates, findings };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
