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
import type { AnomalyDetectorOptions } from "@driftwatch/core/rcf/index";
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
    .option(
      "--cv",
      "also choose settings by leave-one-category-out cross-validation over a small grid and print the CV score",
    )
    .action(async (options: { data?: string; out: string; cv?: boolean }) => {
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
      let cv: Awaited<ReturnType<typeof crossValidate>> | undefined;
      if (options.cv) {
        const corpus = await Promise.all(
          names.map(async (name) => ({
            name,
            rows: parseNabCsv(await readFile(path.join(dataDir, "data", name), "utf8")),
            windows: labels[name],
          })),
        );
        cv = crossValidate(corpus);
        out.write(
          `leave-one-category-out CV over ${CV_GRID.length} settings (each fold: settings and threshold\n`,
        );
        out.write(`chosen on the other categories, applied to the held-out one)\n`);
        out.write(`profile               plain   CV\n`);
        for (const p of PROFILES)
          out.write(
            `${p.padEnd(20)} ${cv.plain[p].toFixed(1).padStart(6)} ${cv.cv[p].toFixed(1).padStart(5)}   (grid best ${cv.gridBest[p].toFixed(1)})\n`,
          );
        for (const f of cv.folds)
          out.write(`  held out ${f.category.padEnd(22)} chose ${f.chosen} (standard)\n`);
        out.write(`each setting alone, plain / CV (only the threshold chosen on the other categories):\n`);
        out.write(`setting                      standard     low FP       low FN\n`);
        for (const c of cv.candidates)
          out.write(
            `${c.name.padEnd(28)} ${PROFILES.map(
              (p) => `${c.plain[p].toFixed(1).padStart(5)}/${c.cv[p].toFixed(1).padEnd(5)}`,
            )
              .join("  ")
              .trimEnd()}\n`,
          );
      }
      await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
      const json = {
        ...(cv ? { crossValidation: cv } : {}),
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

/**
 * The settings cross-validation chooses from: few, principled knobs of the grading (how many recent scores the
 * series' own score tail is fitted on, how rare under it an alert must be, and whether scores are smoothed), the
 * default first. `tailWindow=5000` is the default before ADR 0307, which this CV chose against.
 */
export const CV_GRID: { name: string; options: AnomalyDetectorOptions }[] = [
  { name: "default", options: {} },
  { name: "tailWindow=5000", options: { thresholder: { tailWindow: 5000 } } },
  { name: "tailWindow=1000", options: { thresholder: { tailWindow: 1000 } } },
  { name: "tailRisk=0.001", options: { thresholder: { tailRisk: 0.001 } } },
  { name: "tailRisk=0.01", options: { thresholder: { tailRisk: 0.01 } } },
  { name: "smoothing=1", options: { thresholder: { smoothing: 1 } } },
  { name: "smoothing=1,tailRisk=0.001", options: { thresholder: { smoothing: 1, tailRisk: 0.001 } } },
  { name: "fast path 8x0.003", options: { thresholder: { rawTailRisk: 0.003 } } },
];

interface CvSeries {
  name: string;
  rows: { time: number; value: number }[];
  windows: NabSeries["windows"];
}

/**
 * Leave-one-category-out cross-validation (category = the series' folder): for each category, the grid setting
 * and the NAB threshold are chosen on the other categories (standard profile for the setting, each profile's own
 * optimized threshold), then applied unchanged to the held-out category; the held-out raw scores are summed and
 * normalized over the whole corpus. `plain` is the default setting scored as usual (threshold optimized on all).
 */
export function crossValidate(corpus: readonly CvSeries[]) {
  const category = (name: string) => name.split("/")[0];
  const categories = [...new Set(corpus.map((s) => category(s.name)))].sort();
  const scored = CV_GRID.map((g) =>
    corpus.map((s): NabSeries => ({
      name: s.name,
      times: s.rows.map((r) => r.time),
      scores: nabScores(
        s.rows.map((r) => r.value),
        g.options,
      ),
      windows: s.windows,
    })),
  );
  const plain = {} as Record<NabProfileName, number>;
  const cvScore = {} as Record<NabProfileName, number>;
  const gridBest = {} as Record<NabProfileName, number>;
  const folds: { category: string; chosen: string }[] = [];
  // Each setting on its own: its plain score and its CV score with only the NAB threshold chosen on the other folds.
  const candidates = CV_GRID.map((g, i) => {
    const row = {
      name: g.name,
      plain: {} as Record<NabProfileName, number>,
      cv: {} as Record<NabProfileName, number>,
    };
    for (const profile of PROFILES) {
      const whole = scoreCorpus(scored[i], profile);
      let raw = 0;
      for (const c of categories) {
        const threshold = scoreCorpus(
          scored[i].filter((s) => category(s.name) !== c),
          profile,
        ).threshold;
        raw += scoreCorpus(
          scored[i].filter((s) => category(s.name) === c),
          profile,
          threshold,
        ).raw;
      }
      row.plain[profile] = whole.normalized;
      row.cv[profile] = (100 * (raw - whole.nullScore)) / (whole.perfectScore - whole.nullScore);
    }
    return row;
  });
  for (const profile of PROFILES) {
    plain[profile] = scoreCorpus(scored[0], profile).normalized;
    gridBest[profile] = Math.max(...scored.map((g) => scoreCorpus(g, profile).normalized));
    let raw = 0;
    for (const c of categories) {
      const train = (g: NabSeries[]) => g.filter((s) => category(s.name) !== c);
      let best = 0;
      let bestScore = -Infinity;
      for (let i = 0; i < scored.length; i++) {
        const r = scoreCorpus(train(scored[i]), "standard").raw;
        if (r > bestScore) {
          bestScore = r;
          best = i;
        }
      }
      const threshold = scoreCorpus(train(scored[best]), profile).threshold;
      const held = scored[best].filter((s) => category(s.name) === c);
      raw += scoreCorpus(held, profile, threshold).raw;
      if (profile === "standard") folds.push({ category: c, chosen: CV_GRID[best].name });
    }
    const whole = scoreCorpus(scored[0], profile);
    cvScore[profile] = (100 * (raw - whole.nullScore)) / (whole.perfectScore - whole.nullScore);
  }
  return { grid: CV_GRID.map((g) => g.name), plain, cv: cvScore, gridBest, folds, candidates };
}
