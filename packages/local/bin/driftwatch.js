#!/usr/bin/env node
// `driftwatch --help` (or `-h`, `help`) answers from plain JavaScript, without the TypeScript loader (fast-help.js).
// Everything else runs the TypeScript CLI through tsx so `npx driftwatch` works straight after `npm install`.
import process from "node:process";

const args = process.argv.slice(2);
const help = args.length === 1 && ["--help", "-h", "help"].includes(args[0]);
if (!(help && (await (await import("./fast-help.js")).printFastHelp()))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
