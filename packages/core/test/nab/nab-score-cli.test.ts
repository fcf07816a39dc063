import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../../../..");
const cli = path.join(root, "packages/local/src/cli/main.ts");
const tsx = path.join(root, "node_modules/.bin/tsx");
const nabData = ["/work/shared/nab", path.resolve(root, "../shared/nab")].find((d) =>
  existsSync(path.join(d, "windows.json")),
);
const realSeries = nabData ? path.join(nabData, "data/realAdExchange/exchange-2_cpm_results.csv") : undefined;

describe("driftwatch nab-score (contract)", () => {
  it.skipIf(realSeries === undefined)(
    "writes one finite score in [0,1] per input row of a real NAB series",
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "nab-score-"));
      const out = path.join(dir, "out.csv");
      await run(tsx, [cli, "nab-score", "--in", realSeries as string, "--out", out], { cwd: root });
      const input = (await readFile(realSeries as string, "utf8")).trim().split(/\r?\n/);
      const output = (await readFile(out, "utf8")).trim().split("\n");
      expect(output[0]).toBe("timestamp,value,anomaly_score");
      expect(output.length).toBe(input.length);
      let flagged = 0;
      for (let i = 1; i < output.length; i++) {
        const [ts, value, score] = output[i].split(",");
        const [inTs, inValue] = input[i].split(",");
        expect(ts).toBe(inTs);
        expect(value).toBe(inValue);
        const s = Number(score);
        expect(Number.isFinite(s) && s >= 0 && s <= 1).toBe(true);
        if (s > 0) flagged++;
      }
      expect(flagged).toBeGreaterThan(0);
    },
  );

  it.each([
    ["a repeated timestamp", (i: number) => (i === 400 ? 399 : i)],
    ["a clock stepping back one hour", (i: number) => (i >= 400 ? i - 12 : i)],
    ["a late row", (i: number) => (i === 450 ? 300 : i)],
  ])("writes one finite score per input row with %s", async (_name, slot) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "nab-score-"));
    const input = path.join(dir, "in.csv");
    const out = path.join(dir, "out.csv");
    const t0 = Date.UTC(2014, 0, 1);
    const lines = ["timestamp,value"];
    for (let i = 0; i < 600; i++) {
      // Five-minute steps: slot − 12 steps is one hour back.
      const ts = new Date(t0 + slot(i) * 300_000).toISOString().replace("T", " ").slice(0, 19);
      lines.push(`${ts},${(50 + 5 * Math.sin(i / 10) + (i === 500 ? 40 : 0)).toFixed(3)}`);
    }
    await writeFile(input, `${lines.join("\n")}\n`);
    await run(tsx, [cli, "nab-score", "--in", input, "--out", out], { cwd: root });
    const output = (await readFile(out, "utf8")).trim().split("\n");
    expect(output.length).toBe(lines.length);
    for (let i = 1; i < output.length; i++) {
      const [ts, value, score] = output[i].split(",");
      expect(`${ts},${value}`).toBe(lines[i]);
      const s = Number(score);
      expect(Number.isFinite(s) && s >= 0 && s <= 1).toBe(true);
    }
  });

  it("fails with a readable message naming the bad line", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "nab-score-"));
    const bad = path.join(dir, "bad.csv");
    await writeFile(bad, "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,oops\n");
    const error = await run(tsx, [cli, "nab-score", "--in", bad, "--out", path.join(dir, "o.csv")], {
      cwd: root,
    }).catch((e) => e);
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/line 3: value is not a finite number/);
  });
});
