/**
 * Paired A/B of two RCF engines in ONE process (ADR 0300, issue 14): a baseline copy of `packages/core/src` and
 * this checkout take the same stream (same seed) from empty in alternating chunks, each chunk timed in process CPU
 * time; the speed-up is given per chunk pair (median, quartiles) and over all chunks. Alternating chunks of a few
 * tens of milliseconds is what makes a before/after comparison usable on a shared, loaded machine.
 *
 *   mkdir -p /tmp/rcf-base && git archive <commit> packages/core/src | tar -x -C /tmp/rcf-base
 *   ln -s "$PWD/node_modules" /tmp/rcf-base/node_modules     # the copy resolves zod from this checkout
 *   RCF_AB_BASE=/tmp/rcf-base/packages/core/src/rcf/index.ts npx tsx bench/rcf-ab.ts
 *
 * Env: RCF_AB_POINTS (stream length, default 16000), RCF_AB_CHUNK (points per chunk, default 400), RCF_AB_REPS
 * (streams per case after one discarded warm-up stream, default 2), RCF_AB_KINDS (`forest,process`), RCF_AB_CASES
 * (`dimensions:shingle` list, default `1:1,5:1,1:8`, all at the KDA preset). "same scores" checks that both
 * engines returned the same sum of scores for every chunk. Prints only; nothing is written.
 */
import os from "node:os";
import * as B from "../packages/core/src/rcf/index.ts";

type Engine = typeof B;
const basePath = process.env.RCF_AB_BASE;
if (!basePath) throw new Error("set RCF_AB_BASE to the baseline's packages/core/src/rcf/index.ts");
const A = (await import(basePath)) as Engine;
const N = Number(process.env.RCF_AB_POINTS ?? 16000);
const CH = Number(process.env.RCF_AB_CHUNK ?? 400);
const REPS = Number(process.env.RCF_AB_REPS ?? 2);
const kinds = (process.env.RCF_AB_KINDS ?? "forest,process").split(",");
const cases = (process.env.RCF_AB_CASES ?? "1:1,5:1,1:8").split(",").map((c) => c.split(":").map(Number));
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
console.log(`${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, node ${process.version}`);
console.log(`load average before: ${fmt(os.loadavg())}`);
for (const [dims, sh] of cases) {
  let s = 12345;
  const rand = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const pts = Array.from({ length: N }, (_, i) => {
    const p = new Float64Array(dims);
    for (let k = 0; k < dims; k++) p[k] = 10 * Math.sin(i / 25 + k) + rand() * 2 + (rand() < 0.002 ? 15 : 0);
    return p;
  });
  for (const kind of kinds) {
    const ratios: number[] = [];
    let tA = 0;
    let tB = 0;
    let same = true;
    for (let rep = 0; rep < REPS + 1; rep++) {
      const options = { preset: "kda" as const, shingleSize: sh, seed: rep + 1 };
      const make = (M: Engine) =>
        kind === "forest"
          ? { forest: new M.RandomCutForest(dims, options) }
          : { detector: new M.AnomalyDetector(dims, { forest: options }) };
      const models = { A: make(A), B: make(B) };
      const run = (m: ReturnType<typeof make>, from: number): [number, number] => {
        let sink = 0;
        const c0 = cpu();
        if (m.forest) {
          for (let i = from; i < from + CH; i++) {
            sink += m.forest.score(pts[i]);
            m.forest.update(pts[i]);
          }
        } else if (m.detector) {
          for (let i = from; i < from + CH; i++) sink += m.detector.process(pts[i]).score;
        }
        return [cpu() - c0, sink];
      };
      for (let from = 0, j = 0; from + CH <= N; from += CH, j++) {
        // Alternate which engine goes first, so neither always runs on a cache the other just warmed.
        const b1 = j % 2 === 0 ? run(models.B, from) : undefined;
        const a = run(models.A, from);
        const b = b1 ?? run(models.B, from);
        if (a[1] !== b[1]) same = false;
        if (rep > 0) {
          ratios.push(a[0] / b[0]);
          tA += a[0];
          tB += b[0];
        }
      }
    }
    const y = [...ratios].sort((x, z) => x - z);
    const q = (p: number) => y[Math.floor(p * (y.length - 1))].toFixed(3);
    const timed = REPS * Math.floor(N / CH) * CH;
    console.log(
      `d=${dims} shingle ${sh} ${kind.padEnd(7)} base ${Math.round((timed / tA) * 1e6)}` +
        ` new ${Math.round((timed / tB) * 1e6)}` +
        ` points/CPU-s; speed-up over all chunks ${(tA / tB).toFixed(3)}, per chunk pair median ${q(0.5)}` +
        ` (quartiles ${q(0.25)}–${q(0.75)}, ${y.length} pairs), ${same ? "same scores" : "SCORES DIFFER"}`,
    );
  }
}
console.log(`load average after: ${fmt(os.loadavg())}`);
