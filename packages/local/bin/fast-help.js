// `driftwatch --help` without the TypeScript loader. Starting tsx's loader thread alone costs about half a second of
// CPU, more than the whole answer should take; the command list is plain text in src/cli/commands/index.ts (one
// `{ name: "…", summary: "…", load: … }` line per command) and the description in src/cli/main.ts, so it is read
// from there and printed with commander, exactly as the CLI prints it. Anything unexpected returns false and the
// full CLI answers instead. DRIFTWATCH_NO_FAST_HELP=1 turns this off (the test compares both answers).
import fs from "node:fs";
import process from "node:process";
import { URL } from "node:url";

const ENTRY = /\{\s*name:\s*("(?:[^"\\]|\\.)*"),\s*summary:\s*("(?:[^"\\]|\\.)*"),\s*load:/g;
const DESCRIPTION = /\.description\(\s*("(?:[^"\\]|\\.)*")\s*\)/;

/** Prints the top-level help and returns true, or returns false when it cannot (the full CLI answers then). */
export async function printFastHelp() {
  if (process.env.DRIFTWATCH_NO_FAST_HELP) return false;
  let index;
  let main;
  try {
    index = fs.readFileSync(new URL("../src/cli/commands/index.ts", import.meta.url), "utf8");
    main = fs.readFileSync(new URL("../src/cli/main.ts", import.meta.url), "utf8");
  } catch {
    return false;
  }
  const description = DESCRIPTION.exec(main)?.[1];
  const entries = [...index.matchAll(ENTRY)].map((m) => ({
    name: JSON.parse(m[1]),
    summary: JSON.parse(m[2]),
  }));
  // Every `{ name:` entry must have been understood, or the list would be incomplete.
  if (
    !description ||
    entries.length === 0 ||
    entries.length !== (index.match(/\{\s*name:\s*"/g) ?? []).length
  )
    return false;
  const { Command } = await import("commander");
  const program = new Command().name("driftwatch").description(JSON.parse(description));
  for (const entry of entries) program.command(entry.name).description(entry.summary);
  program.outputHelp();
  return true;
}
