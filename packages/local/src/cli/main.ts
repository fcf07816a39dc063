import { Command } from "commander";
import { commands } from "./commands/index.ts";

const program = new Command();
program
  .name("driftwatch")
  .description("Driftwatch: IoT telemetry analytics. Local mode, simulator, detector and operations tools.")
  .showHelpAfterError();

// Load only the command being run: `driftwatch --help` (or no command) lists the summaries and loads no
// command module at all; `driftwatch <name> …` loads that one module (and its dependencies) only.
const words = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const wanted = words[0] === "help" ? words[1] : words[0];
const entry = commands.find((c) => c.name === wanted);

async function main(): Promise<void> {
  if (entry) (await entry.load())(program);
  else for (const c of commands) program.command(c.name).description(c.summary);
  await program.parseAsync(process.argv);
}

main().catch((error: Error) => {
  process.stderr.write(`driftwatch: ${error.message}\n`);
  process.exitCode = 1;
});
