/**
 * Child-process entry of `global-setup.ts`: synthesizes one shared app configuration and writes its JSON.
 *
 *   node --import tsx stacks/test/synth-shared-app.ts <name> <result file>
 *
 * The result is written to a temporary name and renamed into place, so a reader never sees half a file.
 */
import { renameSync, writeFileSync } from "node:fs";
import { SHARED_APPS, type SharedAppName } from "./shared-apps.ts";

process.env.NODE_ENV = "test";
const [name, resultFile] = process.argv.slice(2) as [SharedAppName, string];
if (!(name in SHARED_APPS) || !resultFile) {
  console.error(`usage: synth-shared-app.ts <${Object.keys(SHARED_APPS).join("|")}> <result file>`);
  process.exit(2);
}
const { synthSharedApp } = await import("./shared-synth-build.ts");
const started = Date.now();
const json = await synthSharedApp(name);
writeFileSync(`${resultFile}.partial`, JSON.stringify(json));
renameSync(`${resultFile}.partial`, resultFile);
const cpu = process.cpuUsage();
console.log(
  `${name}: ${Object.keys(json.templates).length} stacks, ${json.findings.length} findings, ` +
    `${Date.now() - started} ms, main-thread CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms`,
);
