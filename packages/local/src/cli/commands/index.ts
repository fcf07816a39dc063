import type { Command } from "commander";
import { registerStart } from "./start.ts";
import { registerNabScore } from "./nab-score.ts";
import { registerNabEval } from "./nab-eval.ts";
import { registerDevices } from "./devices.ts";
import { registerSimulate } from "./simulate.ts";
import { registerMetrics } from "./metrics.ts";
import { registerIncidents } from "./incidents.ts";

/** Every subcommand registers itself here; one file per command in this folder. */
export const commands: Array<(program: Command) => void> = [
  registerStart,
  registerDevices,
  registerSimulate,
  registerNabScore,
  registerNabEval,
  registerMetrics,
  registerIncidents,
];
