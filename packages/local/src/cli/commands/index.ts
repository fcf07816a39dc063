import type { Command } from "commander";

/**
 * Every subcommand, one file per command in this folder, registered here with one entry: its name, the summary
 * `driftwatch --help` shows, and a loader. main.ts loads only the module of the command being run, so no command
 * loads another's dependencies (aws-cdk-lib, the runtime, the detector). `driftwatch --help` itself is answered by
 * bin/fast-help.js, which reads the entries' `name` and `summary` string literals from this file without the
 * TypeScript loader: keep them literals, in that order (help.test.ts checks it).
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<(program: Command) => void>;
}

export const commands: CommandEntry[] = [
  {
    name: "start",
    summary: "Run the whole pipeline on this machine (MQTT 127.0.0.1:1883, HTTP 127.0.0.1:3000)",
    load: async () => (await import("./start.ts")).registerStart,
  },
  {
    name: "devices",
    summary: "Manage the device registry of the running local instance",
    load: async () => (await import("./devices.ts")).registerDevices,
  },
  {
    name: "simulate",
    summary: "Publish a simulated fleet over MQTT with labelled anomalies",
    load: async () => (await import("./simulate.ts")).registerSimulate,
  },
  {
    name: "nab-score",
    summary: "Score a NAB-format CSV with the scoring Lambda's detector",
    load: async () => (await import("./nab-score.ts")).registerNabScore,
  },
  {
    name: "nab-eval",
    summary: "Run the detector on a NAB corpus and print the standard / low-FP / low-FN scores",
    load: async () => (await import("./nab-eval.ts")).registerNabEval,
  },
  {
    name: "metrics",
    summary: "Print a device's stored window aggregates",
    load: async () => (await import("./metrics.ts")).registerMetrics,
  },
  {
    name: "incidents",
    summary: "List, acknowledge and resolve the incidents of the running local instance",
    load: async () => (await import("./incidents.ts")).registerIncidents,
  },
  {
    name: "thresholds",
    summary: "List, set, delete and backtest threshold rules of the running local instance",
    load: async () => (await import("./thresholds.ts")).registerThresholds,
  },
  {
    name: "token",
    summary: "Print a token the running local instance accepts (operator or viewer)",
    load: async () => (await import("./token.ts")).registerToken,
  },
  {
    name: "replay",
    summary: "Replay a range of the lake through the scoring path into lake/replays/<label>/",
    load: async () => (await import("./replay.ts")).registerReplay,
  },
  {
    name: "raw",
    summary: "Break-glass access to the raw source backup (lake/raw/)",
    load: async () => (await import("./raw.ts")).registerRaw,
  },
  {
    name: "cost",
    summary:
      "Estimate the monthly AWS cost per service for a workload and compare it with the seed's patterns",
    load: async () => (await import("./cost.ts")).registerCost,
  },
];
