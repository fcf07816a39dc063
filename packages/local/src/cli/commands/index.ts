import type { Command } from "commander";
import { registerStart } from "./start.ts";

/** Every subcommand registers itself here; one file per command in this folder. */
export const commands: Array<(program: Command) => void> = [registerStart];
