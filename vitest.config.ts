import os from "node:os";
import { defineConfig } from "vitest/config";

// Four projects: unit (no network, no sockets), stacks (CDK synthesis + cdk-nag, offline),
// integration (the local runtime on 127.0.0.1), browser (the console in Chromium). `npm test` runs all four.
//
// All four share one pool of worker processes, one test file per worker at a time: vitest sizes that pool from
// this root config only (a project's own maxWorkers/fileParallelism are ignored). Its default, cores - 1, is one
// worker on two cores, which ran the whole suite one file after another with a core idle. Files of every project
// may run side by side: tests bind port 0 and write below their own temporary folders, and the stacks project's
// synthesis runs in processes of its own (stacks/test/global-setup.ts). README "Test suite".
export default defineConfig({
  test: {
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    projects: [
      {
        test: {
          name: "unit",
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
          pool: "forks",
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/**/*.test.ts", "packages/*/test/**/*.integration.test.ts"],
          exclude: ["tests/**/*.browser.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 120_000,
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
