import { defineConfig } from "vitest/config";

// Four projects: unit (no network, no sockets), stacks (CDK synthesis + cdk-nag, offline),
// integration (the local runtime on 127.0.0.1), browser (the console in Chromium). `npm test` runs all four.
export default defineConfig({
  test: {
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
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: "forks",
          maxWorkers: 1,
          minWorkers: 1,
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
          maxWorkers: 1,
          minWorkers: 1,
          fileParallelism: false,
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
          maxWorkers: 1,
          minWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
