/**
 * `npm run bench`: every benchmark, one after another (never in parallel: they measure one core each), each
 * printing its table and writing `bench/results/<name>.json`. Pass names to run a subset:
 * `npm run bench -- transform rcf`. The local-mode ones take a few minutes each (60 s of traffic plus flushing).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const all: Record<string, string[]> = {
  transform: ["tsx", "bench/transform.ts"],
  rcf: ["tsx", "bench/rcf.ts"],
  nab: ["tsx", "packages/local/src/cli/main.ts", "nab-eval"],
  scoring: ["tsx", "bench/scoring.ts"],
  detection: ["tsx", "bench/detection.ts"],
  backtest: ["tsx", "bench/backtest.ts"],
  "local-ingest": ["tsx", "bench/local-ingest.ts"],
  "local-e2e": ["tsx", "bench/local-e2e.ts"],
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in all));
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(", ")}; choose from ${Object.keys(all).join(", ")}\n`,
  );
  process.exit(2);
}
const failed: string[] = [];
for (const name of requested.length ? requested : Object.keys(all)) {
  process.stdout.write(`\n=== ${name}\n`);
  const [bin, ...args] = all[name];
  const result = spawnSync("npx", [bin, ...args], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) failed.push(name);
}
if (failed.length) {
  process.stderr.write(`\nfailed: ${failed.join(", ")}\n`);
  process.exit(1);
}
