import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { parseNabCsv, type NabRow } from "@driftwatch/core/nab/index";
import { AnomalyDetector, type AnomalyDetectorOptions } from "@driftwatch/core/rcf/index";

/**
 * Runs THE detector (AnomalyDetector with its defaults, exactly as the scoring Lambda does) over a univariate
 * series and maps each result to a NAB score in [0, 1]: the thresholder's grade at the first point of each anomaly
 * episode (0 elsewhere; rising with how far the RCF score sits above the recent scores). Rows are scored in file
 * order whatever their timestamps. The mapping is the only NAB-specific part.
 */
export function nabScores(values: readonly number[], options: AnomalyDetectorOptions = {}): Float64Array {
  const detector = new AnomalyDetector(1, options);
  const out = new Float64Array(values.length);
  const point = [0];
  for (let i = 0; i < values.length; i++) {
    point[0] = values[i];
    const r = detector.process(point);
    // One detection per episode (the first anomalous point), as NAB counts every flagged row outside a window.
    out[i] = r.newEpisode ? toUnitInterval(r.grade) : 0;
  }
  return out;
}

function toUnitInterval(grade: number): number {
  if (!Number.isFinite(grade) || grade <= 0) return 0;
  return grade >= 1 ? 1 : grade;
}

/** `timestamp,value,anomaly_score` with the input's timestamp and value text unchanged. */
export function formatNabOutput(rows: readonly NabRow[], scores: ArrayLike<number>): string {
  const lines = ["timestamp,value,anomaly_score"];
  for (let i = 0; i < rows.length; i++) lines.push(`${rows[i].timestamp},${rows[i].valueText},${scores[i]}`);
  return `${lines.join("\n")}\n`;
}

export function registerNabScore(program: Command): void {
  program
    .command("nab-score")
    .description(
      "Score a NAB-format CSV (timestamp,value) with the scoring Lambda's detector; writes timestamp,value,anomaly_score",
    )
    .requiredOption("--in <csv>", "input CSV with a timestamp,value header")
    .requiredOption("--out <csv>", "output CSV")
    .action(async (options: { in: string; out: string }) => {
      let text: string;
      try {
        text = await readFile(options.in, "utf8");
      } catch (error) {
        throw new Error(
          `cannot read ${options.in}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      let rows: NabRow[];
      try {
        rows = parseNabCsv(text);
      } catch (error) {
        throw new Error(`${options.in}: ${(error as Error).message}`);
      }
      const scores = nabScores(rows.map((r) => r.value));
      await writeFile(options.out, formatNabOutput(rows, scores));
      const flagged = scores.reduce((n, s) => n + (s > 0 ? 1 : 0), 0);
      process.stderr.write(`nab-score: ${rows.length} rows scored, ${flagged} flagged → ${options.out}\n`);
    });
}
