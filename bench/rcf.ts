/**
 * RCF benchmark: points/s for score + update in one thread, memory per forest, checkpoint size and save/restore
 * time. Run: `npx tsx bench/rcf.ts` (RCF_BENCH_RUNS=5, RCF_BENCH_POINTS=20000 by default). Prints a table and
 * writes bench/results/rcf.json. Method: docs/benchmarks/rcf.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AnomalyDetector, RandomCutForest, type ForestOptionsInput } from "../packages/core/src/rcf/index.ts";

const RUNS = Number(process.env.RCF_BENCH_RUNS ?? 5);
const POINTS = Number(process.env.RCF_BENCH_POINTS ?? 20000);
const WARM = 2000;

interface Case {
  name: string;
  dimensions: number;
  options: ForestOptionsInput;
  /** Java RCF library reference measured on this machine (points/s, one thread), from the issue. */
  reference?: number;
}

const cases: Case[] = [
  { name: "d=1 kda", dimensions: 1, options: { preset: "kda" }, reference: 12000 },
  { name: "d=5 kda", dimensions: 5, options: { preset: "kda" }, reference: 8000 },
  {
    name: "1 metric × shingle 8 kda",
    dimensions: 1,
    options: { preset: "kda", shingleSize: 8 },
    reference: 8500,
  },
  { name: "d=5 library", dimensions: 5, options: { preset: "library" } },
];

function data(d: number, n: number, seed: number): Float64Array[] {
  let s = seed;
  const rand = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return Array.from({ length: n }, (_, i) => {
    const p = new Float64Array(d);
    for (let k = 0; k < d; k++) p[k] = 10 * Math.sin(i / 25 + k) + rand() * 2 + (rand() < 0.002 ? 15 : 0);
    return p;
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeForest(c: Case, points: Float64Array[], seed: number): { rate: number; bytes: number } {
  const f = new RandomCutForest(c.dimensions, { ...c.options, seed });
  for (let i = 0; i < WARM; i++) {
    f.score(points[i]);
    f.update(points[i]);
  }
  const t0 = performance.now();
  let sink = 0;
  for (let i = WARM; i < points.length; i++) {
    sink += f.score(points[i]);
    f.update(points[i]);
  }
  const ms = performance.now() - t0;
  if (!Number.isFinite(sink)) throw new Error("non-finite score");
  return { rate: ((points.length - WARM) / ms) * 1000, bytes: f.bytes() };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Detector `process()` rate: wall clock, and per CPU-second of this process (less sensitive to other load). */
function timeDetector(c: Case, points: Float64Array[], seed: number): { rate: number; cpuRate: number } {
  const det = new AnomalyDetector(c.dimensions, { forest: { ...c.options, seed } });
  for (let i = 0; i < WARM; i++) det.process(points[i]);
  const c0 = cpuMs();
  const t0 = performance.now();
  let sink = 0;
  for (let i = WARM; i < points.length; i++) sink += det.process(points[i]).score;
  const ms = performance.now() - t0;
  const cms = cpuMs() - c0;
  if (!Number.isFinite(sink)) throw new Error("non-finite score");
  return { rate: ((points.length - WARM) / ms) * 1000, cpuRate: ((points.length - WARM) / cms) * 1000 };
}

const rows: Record<string, unknown>[] = [];
const loadBefore = os.loadavg();
for (const c of cases) {
  const points = data(c.dimensions, POINTS + WARM, 12345);
  timeForest(c, points.slice(0, 6000), 1); // JIT warm-up
  const forestRates: number[] = [];
  const detectorRates: number[] = [];
  const detectorCpuRates: number[] = [];
  let bytes = 0;
  for (let r = 0; r < RUNS; r++) {
    const res = timeForest(c, points, r + 1);
    forestRates.push(res.rate);
    bytes = res.bytes;
    const det = timeDetector(c, points, r + 1);
    detectorRates.push(det.rate);
    detectorCpuRates.push(det.cpuRate);
  }
  // Memory once the point store reaches its maximum (every tree holding distinct points).
  const full = new RandomCutForest(c.dimensions, c.options);
  for (const p of points.slice(0, 3000)) full.update(p);
  const det = new AnomalyDetector(c.dimensions, { forest: c.options });
  for (const p of points) det.process(p);
  const saves: number[] = [];
  const restores: number[] = [];
  let plain = new Uint8Array();
  let compressed = new Uint8Array();
  for (let r = 0; r < RUNS; r++) {
    let t0 = performance.now();
    plain = det.toCheckpoint();
    saves.push(performance.now() - t0);
    t0 = performance.now();
    AnomalyDetector.fromCheckpoint(plain);
    restores.push(performance.now() - t0);
  }
  compressed = det.toCheckpoint({ compress: true });
  rows.push({
    case: c.name,
    forestPointsPerSecond: Math.round(median(forestRates)),
    forestRuns: forestRates.map(Math.round),
    detectorPointsPerSecond: Math.round(median(detectorRates)),
    detectorRuns: detectorRates.map(Math.round),
    detectorPointsPerCpuSecond: Math.round(median(detectorCpuRates)),
    javaReference: c.reference ?? null,
    target: c.reference ? 1.5 * c.reference : null,
    memoryBytes: bytes,
    memoryBytesAtMaxStore: full.maxBytes(),
    checkpointBytes: plain.length,
    checkpointCompressedBytes: compressed.length,
    checkpointSaveMs: Number(median(saves).toFixed(2)),
    checkpointRestoreMs: Number(median(restores).toFixed(2)),
  });
}

const loadAfter = os.loadavg();
const mb = (b: unknown) => `${((b as number) / 1024 / 1024).toFixed(2)} MB`;
const kb = (b: unknown) => `${Math.round((b as number) / 1024)} KB`;
console.log(
  `RCF benchmark: ${RUNS} runs × ${POINTS} points after ${WARM} warm-up, one thread, node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"}`,
);
console.log(
  `load average (1/5/15 min) before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")} on ${os.cpus().length} cores`,
);
console.log(
  "case".padEnd(26) +
    "forest pts/s".padStart(13) +
    "detector pts/s".padStart(16) +
    "det pts/cpu-s".padStart(15) +
    "1.5×Java".padStart(10) +
    "Java ref".padStart(10) +
    "memory".padStart(10) +
    "mem max".padStart(10) +
    "ckpt".padStart(9) +
    "ckpt gz".padStart(9) +
    "save ms".padStart(9) +
    "load ms".padStart(9),
);
for (const r of rows) {
  console.log(
    String(r.case).padEnd(26) +
      String(r.forestPointsPerSecond).padStart(13) +
      String(r.detectorPointsPerSecond).padStart(16) +
      String(r.detectorPointsPerCpuSecond).padStart(15) +
      String(r.target ?? "-").padStart(10) +
      String(r.javaReference ?? "-").padStart(10) +
      mb(r.memoryBytes).padStart(10) +
      mb(r.memoryBytesAtMaxStore).padStart(10) +
      kb(r.checkpointBytes).padStart(9) +
      kb(r.checkpointCompressedBytes).padStart(9) +
      String(r.checkpointSaveMs).padStart(9) +
      String(r.checkpointRestoreMs).padStart(9),
  );
}
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
mkdirSync(outDir, { recursive: true });
writeFileSync(
  path.join(outDir, "rcf.json"),
  `${JSON.stringify({ generatedAt: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, runs: RUNS, points: POINTS, warmup: WARM, results: rows }, null, 2)}\n`,
);
console.log(`wrote ${path.join(outDir, "rcf.json")}`);
