import { Command } from "commander";
import { commands } from "./commands/index.ts";

const program = new Command();
program
  .name("driftwatch")
  .description("Driftwatch: IoT telemetry analytics. Local mode, simulator, detector and operations tools.")
  .showHelpAfterError();

for (const register of commands) register(program);

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`driftwatch: ${error.message}\n`);
  process.exitCode = 1;
});
