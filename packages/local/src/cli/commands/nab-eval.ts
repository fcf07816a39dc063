import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import {
  parseNabCsv,
  parseNabLabels,
  scoreCorpus,
  type NabProfileName,
  type NabSeries,
} from "@driftwatch/core/nab/index";
import { nabScores } from "./nab-score.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../..");
const PROFILES: NabProfileName[] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

function defaultDataDir(): string {
  for (const candidate of ["/work/shared/nab", path.resolve(repoRoot, "../shared/nab")]) {
    if (existsSync(path.join(candidate, "windows.json"))) return candidate;
  }
  return path.resolve(repoRoot, "../shared/nab");
}

export function registerNabEval(program: Command): void {
  program
    .command("nab-eval")
    .description("Run the detector on a NAB corpus and print the standard / low-FP / low-FN scores")
    .option(
      "--data <dir>",
      "NAB folder with windows.json and data/ (default /work/shared/nab or ../shared/nab)",
    )
    .option("--out <json>", "results file", path.join(repoRoot, "bench/results/nab.json"))
    .action(async (options: { data?: string; out: string }) => {
      const dataDir = path.resolve(options.data ?? defaultDataDir());
      const labelsPath = path.join(dataDir, "windows.json");
      if (!existsSync(labelsPath)) throw new Error(`no windows.json in ${dataDir} (use --data <dir>)`);
      const labels = parseNabLabels(await readFile(labelsPath, "utf8"));
      const names = Object.keys(labels).sort();
      const series: NabSeries[] = [];
      const started = performance.now();
      let points = 0;
      for (const [i, name] of names.entries()) {
        process.stderr.write(`[${i + 1}/${names.length}] ${name}\n`);
        const rows = parseNabCsv(await readFile(path.join(dataDir, "data", name), "utf8"));
        const scores = nabScores(rows.map((r) => r.value));
        points += rows.length;
        series.push({ name, times: rows.map((r) => r.time), scores, windows: labels[name] });
      }
      const seconds = (performance.now() - started) / 1000;
      const results = PROFILES.map((p) => scoreCorpus(series, p));
      const out = process.stdout;
      out.write(
        `NAB on ${names.length} series (${points} points, ${seconds.toFixed(1)} s, ${Math.round(points / seconds)} points/s)\n`,
      );
      out.write(`profile               score   threshold   TP   FP   FN\n`);
      for (const r of results) {
        out.write(
          `${r.profile.padEnd(20)} ${r.normalized.toFixed(1).padStart(6)}   ${r.threshold.toFixed(4).padStart(9)}  ${String(r.tp).padStart(3)}  ${String(r.fp).padStart(3)}  ${String(r.fn).padStart(3)}\n`,
        );
      }
      await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
      const json = {
        generatedAt: new Date().toISOString(),
        dataDir,
        series: names.length,
        points,
        seconds,
        detector: "AnomalyDetector defaults (kda forest + default thresholder), score = grade",
        profiles: Object.fromEntries(
          results.map((r) => [
            r.profile,
            {
              score: r.normalized,
              threshold: r.threshold,
              raw: r.raw,
              null: r.nullScore,
              perfect: r.perfectScore,
              tp: r.tp,
              fp: r.fp,
              fn: r.fn,
            },
          ]),
        ),
        perSeries: results[0].perSeries,
      };
      await writeFile(path.resolve(options.out), `${JSON.stringify(json, null, 2)}\n`);
      out.write(`wrote ${path.resolve(options.out)}\n`);
    });
}
