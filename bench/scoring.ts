/**
 * Scoring benchmark: the scoring handler (`createScoreHandler`, the real Lambda code) at KDA settings with 5 metrics
 * and 50 model keys, against the raw detector (`AnomalyDetector.process`, the same RCF configuration) on the same
 * points (50 models interleaved, and one model alone), in one thread; memory of 50 warmed models; checkpoint time
 * and size of 50 models. Many models (SCORING_BENCH_MODELS, default 50,500): the handler per CPU-second against ONE
 * model, and against the same models run one at a time at the same age, with the tree insertions per record of each
 * (load-independent: how much forest work each side of a ratio does).
 *
 *   npx tsx bench/scoring.ts            (SCORING_BENCH_RUNS=3, SCORING_BENCH_RECORDS=20000, SCORING_BENCH_BATCH=1000)
 *
 * Prints a table, writes bench/results/scoring.json. Method and figures: docs/benchmarks/scoring.md.
 * Ports are in-memory (the stores are not what is measured; DynamoDB/S3/Firehose latency is not part of it).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { AnomalyDetector } from "../packages/core/src/rcf/index.ts";
import { DetectorPool } from "../packages/core/src/scoring/detector-pool.ts";
import { rcfDetectorFactory } from "../packages/core/src/scoring/rcf-detector-factory.ts";
import { CachedThresholds } from "../packages/core/src/thresholds/cached-thresholds.ts";
import { createScoreHandler } from "../packages/functions/src/kinesis/score.ts";
import { configureObservability } from "../packages/functions/src/shared/observability.ts";
import {
  MemoryCheckpointStore,
  MemoryThresholds,
  RecordingEscalationStarter,
  testPreparer,
} from "../packages/core/test/scoring/support.ts";
import {
  benchContext,
  CountingArchive,
  CountingMetricsStore,
  DEVICES_PER_MODEL,
  makeDevices,
  makeRecords as makeRecordsOf,
  METRICS,
  pointFor,
  scoreEvent,
} from "./scoring-fixtures.ts";

const RUNS = Number(process.env.SCORING_BENCH_RUNS ?? 3);
let RECORDS = Number(process.env.SCORING_BENCH_RECORDS ?? 20_000);
/** Model counts of the many-model section (handler vs ONE cache-resident model, CPU time). */
const MODEL_COUNTS = (process.env.SCORING_BENCH_MODELS ?? "50,500").split(",").map(Number);
/** Records timed (and runs) for counts ≥ 500: warming 500 forests alone takes 150,000 detector calls. */
const RECORDS_MANY = Number(process.env.SCORING_BENCH_RECORDS_MANY ?? 10_000);
const RUNS_MANY = Number(process.env.SCORING_BENCH_RUNS_MANY ?? 1);
let MODELS = 50;
/**
 * Warm-up records per model: with per-series normalisation (ADR 0305) a device's first 30 readings are not learned,
 * so a forest holds WARM − 4 × 30 points after it; 400 leaves 280 > 256 (KDA output after 256): every forest scores
 * for real during the measurement (checked in `runRawSameAgeOneAtATime`). 300 (before issue 14) left 180: no forest
 * had started scoring when the measurement began.
 */
const WARM_PER_MODEL = 400;
const BATCH = Number(process.env.SCORING_BENCH_BATCH ?? 1_000);
/**
 * SCORING_BENCH_OLD=n (default 0: off): every model of the many-model section (handler, ONE model, same age) starts as
 * a copy of one template detector that has learned n points of 4 other devices (restored from its checkpoint, so each
 * model is its own copy in memory), then gets the usual warm-up: old forests, as in production, on both sides of
 * the ratio.
 */
const OLD = Number(process.env.SCORING_BENCH_OLD ?? 0);
let template: Uint8Array | undefined;
/** A new model of the many-model section: fresh, or a copy of the old template (SCORING_BENCH_OLD). */
function manyModelDetector(): AnomalyDetector {
  const factory = rcfDetectorFactory();
  if (OLD <= 0) return factory.create(METRICS.length) as AnomalyDetector;
  if (!template) {
    const d = factory.create(METRICS.length) as AnomalyDetector;
    for (let i = 0; i < OLD; i++) d.process(pointFor(10_000_000 + i), `template-${i % DEVICES_PER_MODEL}`);
    template = d.toCheckpoint();
  }
  return factory.restore(template) as AnomalyDetector;
}

configureObservability({ logSink: () => {}, metrics: "off", logLevel: "ERROR" });
const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

let devices = makeDevices(MODELS);
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const makeRecords = (from: number, n: number, t0: number) => makeRecordsOf(devices, from, n, t0);
const context = benchContext;
const event = scoreEvent;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Tree insertions done by these detectors' forests so far (`RandomCutForest.treeInsertions`). */
const insertionsOf = (detectors: Iterable<AnomalyDetector>) => {
  let n = 0;
  for (const d of detectors) n += d.forest.treeInsertions;
  return n;
};

async function runHandler() {
  const checkpoints = new MemoryCheckpointStore();
  const base = rcfDetectorFactory();
  const made: AnomalyDetector[] = [];
  const keep = <T>(d: T) => {
    made.push(d as AnomalyDetector);
    return d;
  };
  const factory = {
    create: () => keep(manyModelDetector()),
    restore: (b: Uint8Array) => keep(base.restore(b)),
  };
  const metrics = new CountingMetricsStore();
  const archive = new CountingArchive();
  const handler = createScoreHandler(async () => ({
    preparer: testPreparer(devices),
    detectors: new DetectorPool(factory, checkpoints, { now: () => performance.now() }),
    thresholds: new CachedThresholds(new MemoryThresholds(), { now: () => Date.now() }),
    escalation: new RecordingEscalationStarter(),
    metrics,
    archive,
    checkpoints,
    clock: { now: () => performance.now() },
    options: { windowMs: 3_600_000, silenceWindows: 0 },
  }));
  const t0 = Date.UTC(2024, 0, 1);
  const windowStart = t0;
  let state: Record<string, unknown> = {};
  const warm = makeRecords(0, MODELS * WARM_PER_MODEL, t0);
  for (let i = 0; i < warm.length; i += BATCH)
    state = (await handler(event(warm.slice(i, i + BATCH), windowStart, state), context)).state;
  const measured = makeRecords(warm.length, RECORDS, t0);
  const insertionsBefore = insertionsOf(made);
  const started = performance.now();
  const cpuStarted = cpuSeconds();
  for (let i = 0; i < measured.length; i += BATCH)
    state = (await handler(event(measured.slice(i, i + BATCH), windowStart, state), context)).state;
  const seconds = (performance.now() - started) / 1000;
  const cpuRate = RECORDS / (cpuSeconds() - cpuStarted);
  const insertionsPerRecord = (insertionsOf(made) - insertionsBefore) / RECORDS;
  const finalStarted = performance.now();
  await handler(event([], windowStart, state, true), context);
  const finalMs = performance.now() - finalStarted;
  const modelKeys = archive.detectorKeys.size;
  return {
    rate: RECORDS / seconds,
    cpuRate,
    insertionsPerRecord,
    finalMs,
    modelKeys,
    checkpointBytes: [...checkpoints.objects.values()].reduce((a, b) => a + b.length, 0),
    checkpoints: checkpoints.objects.size,
  };
}

function runRaw() {
  const detectors = new Map<string, AnomalyDetector>();
  const factory = rcfDetectorFactory();
  const get = (key: string) => {
    let d = detectors.get(key);
    if (!d) detectors.set(key, (d = factory.create(METRICS.length) as AnomalyDetector));
    return d;
  };
  const t0 = Date.UTC(2024, 0, 1);
  const warm = makeRecords(0, MODELS * WARM_PER_MODEL, t0);
  for (const r of warm) get(`${r.device.manufacturer}#${r.device.model}`).process(r.point);
  const measured = makeRecords(warm.length, RECORDS, t0);
  const keys = measured.map((r) => `${r.device.manufacturer}#${r.device.model}`);
  const started = performance.now();
  let sink = 0;
  for (let i = 0; i < measured.length; i++) sink += get(keys[i]).process(measured[i].point).score;
  const seconds = (performance.now() - started) / 1000;
  if (!Number.isFinite(sink)) throw new Error("non-finite score");
  return { rate: RECORDS / seconds, detectors };
}

/** The same points through ONE warmed detector: the cache-resident ceiling (what grouping by key approaches). */
function runRawSingle() {
  const detector = manyModelDetector();
  const t0 = Date.UTC(2024, 0, 1);
  for (const r of makeRecords(0, WARM_PER_MODEL, t0)) detector.process(r.point);
  const measured = makeRecords(MODELS * WARM_PER_MODEL, RECORDS, t0);
  const insertionsBefore = detector.forest.treeInsertions;
  const started = performance.now();
  const cpuStarted = cpuSeconds();
  let sink = 0;
  for (const r of measured) sink += detector.process(r.point).score;
  const seconds = (performance.now() - started) / 1000;
  const cpuRate = RECORDS / (cpuSeconds() - cpuStarted);
  if (!Number.isFinite(sink)) throw new Error("non-finite score");
  const insertionsPerRecord = (detector.forest.treeInsertions - insertionsBefore) / RECORDS;
  return { rate: RECORDS / seconds, cpuRate, insertionsPerRecord };
}

/**
 * The handler's detector work without the handler and without switching models: the same MODELS detectors (same
 * factory, device ids as series, the same warm-up and measured records as `runHandler`), but ONE model at a time,
 * each taking all of its measured records in a row while it is cache-resident, then dropped. Only the measured
 * records are timed (CPU). Unlike `runRawSingle`, whose model is ≈ 20× older after its 300 warm-up points and so
 * offers each point to far fewer tree insertions (the sampler keeps a point with probability ≈ 256 / age), these
 * models are exactly as old as the handler's.
 */
function runRawSameAgeOneAtATime() {
  const t0 = Date.UTC(2024, 0, 1);
  const warm = makeRecords(0, MODELS * WARM_PER_MODEL, t0);
  const measured = makeRecords(warm.length, RECORDS, t0);
  const byModel = (records: ReturnType<typeof makeRecords>) => {
    const groups = new Map<string, ReturnType<typeof makeRecords>>();
    for (const r of records) {
      const key = `${r.device.manufacturer}#${r.device.model}`;
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
    return groups;
  };
  const warmBy = byModel(warm);
  let cpu = 0;
  let sink = 0;
  let insertions = 0;
  for (const [key, records] of byModel(measured)) {
    const detector = manyModelDetector();
    let last = 0;
    for (const r of warmBy.get(key) ?? []) last = detector.process(r.point, r.device.deviceId).score;
    if (!(last > 0)) throw new Error(`model ${key} does not score yet after its warm-up`);
    const insertionsBefore = detector.forest.treeInsertions;
    const started = cpuSeconds();
    for (const r of records) sink += detector.process(r.point, r.device.deviceId).score;
    cpu += cpuSeconds() - started;
    insertions += detector.forest.treeInsertions - insertionsBefore;
  }
  if (!Number.isFinite(sink)) throw new Error("non-finite score");
  return { cpuRate: RECORDS / cpu, insertionsPerRecord: insertions / RECORDS };
}

function memoryOf50Models() {
  gc();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const { detectors } = runRaw();
  gc();
  const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const checkpointStarted = performance.now();
  let bytes = 0;
  for (const d of detectors.values()) bytes += d.toCheckpoint({ compress: true }).length;
  const checkpointMs = performance.now() - checkpointStarted;
  const restoreStarted = performance.now();
  for (const d of detectors.values()) AnomalyDetector.fromCheckpoint(d.toCheckpoint({ compress: true }));
  const restoreMs = performance.now() - restoreStarted - checkpointMs;
  return {
    totalMiB: (after - before) / 2 ** 20,
    perModelMiB: (after - before) / 2 ** 20 / detectors.size,
    checkpointMs,
    checkpointBytes: bytes,
    restoreMs: Math.max(0, restoreMs),
  };
}

const handlerRuns: Awaited<ReturnType<typeof runHandler>>[] = [];
const rawRates: number[] = [];
const singleRates: number[] = [];
for (let run = 0; run < RUNS; run++) {
  rawRates.push(runRaw().rate);
  singleRates.push(runRawSingle().rate);
  handlerRuns.push(await runHandler());
  gc();
}
const memory = memoryOf50Models();
const handlerRate = median(handlerRuns.map((r) => r.rate));
const rawRate = median(rawRates);
const singleRate = median(singleRates);

/**
 * Many models: the handler with N model keys against ONE warmed model on the same kind of points, both in points
 * per CPU-second of this process (less sensitive than the wall clock to other jobs on a shared machine), each run
 * pairing a single-model pass with a handler pass. Every model has the same per-model memory (the KDA detector).
 */
const manyModels: {
  models: number;
  records: number;
  runs: number;
  handlerPerCpuSecond: number;
  oneModelPerCpuSecond: number;
  ratio: number;
  ratioRuns: number[];
  sameAgeOneAtATimePerCpuSecond: number;
  ratioToSameAge: number;
  /** Tree insertions per measured record (load-independent): handler, ONE model, same models one at a time. */
  treeInsertionsPerRecord: { handler: number; oneModel: number; sameAge: number };
}[] = [];
const defaultRecords = RECORDS;
for (const count of MODEL_COUNTS) {
  MODELS = count;
  devices = makeDevices(count);
  RECORDS = count >= 500 ? RECORDS_MANY : defaultRecords;
  const runs = count >= 500 ? RUNS_MANY : RUNS;
  const handlerCpu: number[] = [];
  const singleCpu: number[] = [];
  const sameAgeCpu: number[] = [];
  const insertions = { handler: 0, oneModel: 0, sameAge: 0 };
  for (let run = 0; run < runs; run++) {
    const single = runRawSingle();
    singleCpu.push(single.cpuRate);
    const handled = await runHandler();
    handlerCpu.push(handled.cpuRate);
    gc();
    const sameAge = runRawSameAgeOneAtATime();
    sameAgeCpu.push(sameAge.cpuRate);
    gc();
    // Deterministic (fixed seeds, same records): every run gives the same counts.
    insertions.handler = +handled.insertionsPerRecord.toFixed(2);
    insertions.oneModel = +single.insertionsPerRecord.toFixed(2);
    insertions.sameAge = +sameAge.insertionsPerRecord.toFixed(2);
  }
  manyModels.push({
    models: count,
    records: RECORDS,
    runs,
    handlerPerCpuSecond: Math.round(median(handlerCpu)),
    oneModelPerCpuSecond: Math.round(median(singleCpu)),
    ratio: median(handlerCpu) / median(singleCpu),
    ratioRuns: handlerCpu.map((h, i) => +(h / singleCpu[i]).toFixed(3)),
    sameAgeOneAtATimePerCpuSecond: Math.round(median(sameAgeCpu)),
    ratioToSameAge: median(handlerCpu) / median(sameAgeCpu),
    treeInsertionsPerRecord: insertions,
  });
}
MODELS = 50;
devices = makeDevices(MODELS);
RECORDS = defaultRecords;
const result = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
  config: {
    preset: "kda",
    metrics: METRICS.length,
    modelKeys: MODELS,
    devices: devices.length,
    recordsMeasured: RECORDS,
    batchSize: BATCH,
    runs: RUNS,
  },
  handler: {
    recordsPerSecond: Math.round(handlerRate),
    runs: handlerRuns.map((r) => Math.round(r.rate)),
    modelKeysSeen: handlerRuns[0].modelKeys,
  },
  rawDetector: { pointsPerSecond: Math.round(rawRate), runs: rawRates.map(Math.round) },
  ratio: handlerRate / rawRate,
  rawSingleModel: { pointsPerSecond: Math.round(singleRate), runs: singleRates.map(Math.round) },
  ratioToSingleModel: handlerRate / singleRate,
  finalInvoke: {
    ms: Math.round(median(handlerRuns.map((r) => r.finalMs))),
    checkpointsWritten: handlerRuns[0].checkpoints,
    checkpointBytes: handlerRuns[0].checkpointBytes,
  },
  memory50Models: { totalMiB: +memory.totalMiB.toFixed(1), perModelMiB: +memory.perModelMiB.toFixed(2) },
  manyModels,
  loadAverage: os.loadavg(),
  checkpoint50Models: {
    serializeMs: Math.round(memory.checkpointMs),
    bytes: memory.checkpointBytes,
    restoreMs: Math.round(memory.restoreMs),
  },
};

const rows: [string, string][] = [
  [
    "handler records/s (median)",
    `${result.handler.recordsPerSecond} (runs ${result.handler.runs.join(", ")})`,
  ],
  [
    "raw AnomalyDetector points/s",
    `${result.rawDetector.pointsPerSecond} (runs ${result.rawDetector.runs.join(", ")})`,
  ],
  ["handler / raw", `${(result.ratio * 100).toFixed(1)} % (target ≥ 80 %)`],
  [
    "raw, ONE model (same points, cache-resident)",
    `${result.rawSingleModel.pointsPerSecond} (runs ${result.rawSingleModel.runs.join(", ")})`,
  ],
  ["handler / raw one model", `${(result.ratioToSingleModel * 100).toFixed(1)} %`],
  [
    "memory, 50 warmed kda models (5 metrics)",
    `${result.memory50Models.totalMiB} MiB (${result.memory50Models.perModelMiB} MiB/model)`,
  ],
  [
    "checkpoint 50 models (serialize, gzip)",
    `${result.checkpoint50Models.serializeMs} ms, ${(result.checkpoint50Models.bytes / 2 ** 20).toFixed(2)} MiB`,
  ],
  ["restore 50 models", `${result.checkpoint50Models.restoreMs} ms`],
  [
    `final invoke (aggregates + ${result.finalInvoke.checkpointsWritten} of ${result.handler.modelKeysSeen} checkpoints` +
      ", spread over window ends; in-memory stores)",
    `${result.finalInvoke.ms} ms`,
  ],
];
for (const m of manyModels) {
  rows.push([
    `handler, ${m.models} models / ONE model (per CPU-second)`,
    `${(m.ratio * 100).toFixed(1)} % (${m.handlerPerCpuSecond} / ${m.oneModelPerCpuSecond}; ${m.records} records,` +
      ` ${m.runs} run(s); target ≥ ${m.models >= 500 ? 30 : 50} %)`,
  ]);
  rows.push([
    `handler, ${m.models} models / same models one at a time, same age (per CPU-second)`,
    `${(m.ratioToSameAge * 100).toFixed(1)} % (${m.handlerPerCpuSecond} / ${m.sameAgeOneAtATimePerCpuSecond};` +
      " what switching models and the handler's own work cost; no target)",
  ]);
  rows.push([
    `tree insertions per record, ${m.models} models: handler / ONE model / same age`,
    `${m.treeInsertionsPerRecord.handler} / ${m.treeInsertionsPerRecord.oneModel} / ${m.treeInsertionsPerRecord.sameAge}` +
      " (of 100 trees; forest work the ratios above compare, independent of load)",
  ]);
}
rows.push([
  "load average (1/5/15 min) at the end",
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" "),
]);
const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(
  `Scoring benchmark (kda, ${METRICS.length} metrics, ${MODELS} model keys, ${RECORDS} records, ${RUNS} runs)\n`,
);
for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
/**
 * `SCORING_BENCH_OUT` names the results file (default `scoring.json`; the old-forest runs keep their own): a name
 * under `bench/results/`, or an absolute path (`/tmp/sb.json`; it used to land in `bench/results/tmp/`).
 */
const out = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "results",
  process.env.SCORING_BENCH_OUT ?? "scoring.json",
);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
