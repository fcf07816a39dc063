import os from "node:os";
import { defineConfig } from "vitest/config";

// Four projects: unit (no network, no sockets), stacks (CDK synthesis + cdk-nag, offline),
// integration (the local runtime on 127.0.0.1), browser (the console in Chromium). `npm test` runs all four.
//
// vitest 3 keeps one pool per pool type (`pool` below) and sizes and isolates each from this root config only (a
// project's own maxWorkers/fileParallelism/isolate are ignored):
// - `threads` (unit, stacks): NOT isolated. Each worker thread keeps its loaded modules from one test file to the
//   next (vitest still gives each project a fresh worker), which halves the unit project's CPU. These files share no
//   global state between files: no process.env they leave changed, no port, no folder; stack tests read the shared
//   synthesis (stacks/test/global-setup.ts) and synthesize in-thread only configurations of their own.
// - `forks` (integration, browser): isolated, one fresh process per file: the handlers read their configuration
//   once per process.
// Both pools run at once, each with at least 2 workers (the default, cores - 1, is one worker on two cores, which ran
// every file one after another). Tests bind port 0 and write below their own temporary folders. README "Test suite",
// ADR 0004.
export default defineConfig({
  test: {
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    poolOptions: { threads: { isolate: false } },
    projects: [
      {
        test: {
          name: "unit",
          pool: "threads",
          include: ["packages/*/test/**/*.test.ts"],
          exclude: ["**/*.integration.test.ts"],
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "stacks",
          include: ["stacks/test/**/*.test.ts"],
          environment: "node",
          env: { NODE_ENV: "test" },
          // Synthesizes the shared apps (stacks/test/shared-apps.ts) once per run, in child processes.
          globalSetup: ["stacks/test/global-setup.ts"],
          testTimeout: 300_000,
          // A file waits in beforeAll for the shared synthesis (harness.ts SYNTH_TIMEOUT_MS on a loaded machine).
          hookTimeout: 900_000,
          pool: "threads",
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/**/*.test.ts", "packages/*/test/**/*.integration.test.ts"],
          exclude: ["tests/**/*.browser.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          // Hooks start a local instance (up to 170 s on a busy machine: local-instance.ts).
          hookTimeout: 180_000,
          pool: "forks",
        },
      },
      {
        // The web console in real Chromium (Debian's /usr/bin/chromium via playwright-core) against a local runtime.
        test: {
          name: "browser",
          include: ["tests/**/*.browser.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: "forks",
        },
      },
    ],
  },
});
