/**
 * Global setup of the vitest `stacks` project: starts one child process per shared app configuration
 * (`shared-apps.ts`) as the run starts, each synthesizing its app into the run's folder, and provides that folder to
 * the test files (`sharedSynth` waits for the result it needs). The syntheses run beside whatever else the run does
 * instead of once per test file. Teardown stops any child still running and removes the folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { SHARED_APP_NAMES, sharedSynthFiles, type SharedAppName } from "./shared-apps.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");

function start(dir: string, name: SharedAppName): { child: ChildProcess; exited: Promise<void> } {
  const files = sharedSynthFiles(dir, name);
  const log = openSync(files.log, "w");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(here, "synth-shared-app.ts"), name, files.result],
    {
      cwd: repoRoot,
      env: { ...process.env, NODE_ENV: "test" },
      stdio: ["ignore", log, log],
    },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => {
    const failed = (why: string) => {
      const output = readFileSync(files.log, "utf8");
      writeFileSync(files.failed, `${why}\n${output.slice(-20_000)}`);
      resolve();
    };
    child.once("error", (error) => failed(`could not start: ${error.message}`));
    child.once("exit", (code, signal) => (code === 0 ? resolve() : failed(`exited with ${code ?? signal}`)));
  });
  return { child, exited };
}

/** Starts the shared syntheses into a fresh folder; `stop` ends them and removes the folder. */
function startAll(): { dir: string; stop: () => Promise<void> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "driftwatch-shared-synth-"));
  const running = SHARED_APP_NAMES.map((name) => start(dir, name));
  return {
    dir,
    async stop() {
      for (const { child } of running)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await Promise.all(running.map((r) => r.exited));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export default function setup(project: TestProject): () => Promise<void> {
  let current = startAll();
  project.provide("sharedSynthDir", current.dir);
  // Watch mode: a rerun (stack code may have changed) synthesizes again instead of reading the first run's apps.
  project.onTestsRerun(async () => {
    await current.stop();
    current = startAll();
    project.provide("sharedSynthDir", current.dir);
  });
  return () => current.stop();
}
