/**
 * Backtest benchmark (issue 10):
 *  1. engine: readings/s through `runBacktest` (core: both rule sets in one pass), 1 device, 2 metrics, in-memory
 *     readings, in its two modes: on archived live verdicts (what the scoring path archived for the same readings:
 *     no forest) and with a KDA forest warmed and run once. Target ≥ 50,000/s on one core. Beside them, the forest
 *     alone over the same points, and one replay pass (the live `WindowScorer`, as `driftwatch replay` runs it).
 *  2. local 1 day × 1 device: `POST /api/backtest` handler (the Lambda handler) with DuckDB over a real lake of 100
 *     devices (gzip NDJSON readings per arrival hour, scores archive objects per window), 1 reading a minute
 *     (1,440 + 6 h warm-up), reader kept across requests as local mode's API keeps it: median of 5, with the
 *     archived verdicts and on a lake without scores (forest). Also a cold reader (a fresh process's first request).
 *     Target < 2 s.
 *  3. local 24 h × 100 devices: DuckDB read of the whole range, one replay of all devices together (what `driftwatch
 *     replay` does; its scored records become the lake's scores archive for 2.), then a backtest of every device on
 *     those archived verdicts.
 *
 *   npx tsx bench/backtest.ts          (BACKTEST_BENCH_READINGS=50000, BACKTEST_BENCH_RUNS=3, 1-day runs: 5)
 *
 * Prints a table and writes bench/results/backtest.json (with the load average before and after).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import type { Context } from "aws-lambda";
import { runBacktest } from "../packages/core/src/backtest/backtest.ts";
import { replayReadings } from "../packages/core/src/backtest/replay.ts";
import type { ArchivedVerdict } from "../packages/core/src/backtest/archived-verdicts.ts";
import { rcfDetectorFactory } from "../packages/core/src/scoring/rcf-detector-factory.ts";
import type { ScoredRecord } from "../packages/core/src/scoring/scored-record.ts";
import type { Reading } from "../packages/core/src/telemetry/reading.ts";
import { resolveThresholds } from "../packages/core/src/thresholds/resolve.ts";
import { createBacktestHandler } from "../packages/functions/src/http/backtest.ts";
import { configureObservability } from "../packages/functions/src/shared/observability.ts";
import { DuckDbLakeReader } from "../packages/local/src/lake/duckdb-lake-reader.ts";

const READINGS = Number(process.env.BACKTEST_BENCH_READINGS ?? 50_000);
const RUNS = Number(process.env.BACKTEST_BENCH_RUNS ?? 3);
const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1);
configureObservability({ logSink: () => {}, metrics: "off", logLevel: "ERROR" });

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readingsOf(
  deviceId: string,
  fromMs: number,
  count: number,
  stepMs: number,
  seed: number,
): Reading[] {
  const rand = rng(seed);
  const level = 3 + rand() * 2;
  return Array.from({ length: count }, (_, i) => {
    const ms = fromMs + i * stepMs + 1_000;
    const spike = rand() < 0.002;
    return {
      deviceId,
      ts: new Date(ms).toISOString(),
      receivedAt: new Date(ms + 1_500).toISOString(),
      topic: `dt/site-1/${deviceId}/telemetry`,
      source: "canonical" as const,
      site: "site-1",
      manufacturer: "acme",
      model: "p100",
      metrics: {
        pressure: Math.round((spike ? level * 3 : level + (rand() - 0.5) * 0.4) * 1000) / 1000,
        temp: Math.round((20 + (rand() - 0.5) * 2) * 100) / 100,
      },
      tags: {},
    };
  });
}

const device = (id: string) => ({ deviceId: id, manufacturer: "acme", model: "p100" });
const candidate = { bounds: { pressure: { max: 6 } } };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loadBefore = os.loadavg();

// 1. Engine throughput, in both modes.
const engineReadings = readingsOf("d-0", T0, READINGS, 10_000, 1);
const toMs = T0 + READINGS * 10_000 + MIN;
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
/** Wall and CPU throughput of one call over `count` readings. */
async function measure<T>(
  count: number,
  run: () => Promise<T>,
): Promise<{ wall: number; cpu: number; value: T }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const value = await run();
  const cpuS = cpuSeconds(cpu);
  return { wall: Math.round(count / ((performance.now() - t) / 1000)), cpu: Math.round(count / cpuS), value };
}
const verdictOf = (r: ScoredRecord): ArchivedVerdict => ({
  deviceId: r.deviceId,
  ts: r.ts,
  receivedAt: r.receivedAt,
  metrics: r.metrics,
  score: r.score,
  grade: r.grade,
  attribution: r.attribution,
  detection: r.detection!,
});
const thresholdsNone = { resolve: async (d: ReturnType<typeof device>) => resolveThresholds(d, []) };
const runs = {
  archivedWall: [] as number[],
  archivedCpu: [] as number[],
  forestWall: [] as number[],
  forestCpu: [] as number[],
  forestAloneCpu: [] as number[],
  replayWall: [] as number[],
  replayCpu: [] as number[],
};
let archivedReport;
let forestReport;
for (let run = 0; run < RUNS; run++) {
  // The ceiling of any engine that runs the detector: the forest alone over the same points.
  const forestCpu = process.cpuUsage();
  const alone = rcfDetectorFactory().create(2);
  for (const r of engineReadings) alone.process([r.metrics.pressure, r.metrics.temp], r.deviceId);
  runs.forestAloneCpu.push(Math.round(READINGS / cpuSeconds(forestCpu)));
  // One replay pass through the live WindowScorer; its scored records are what the scoring path archives.
  const scored: ScoredRecord[] = [];
  const replay = await measure(READINGS, () =>
    replayReadings(engineReadings, {
      windowMs: MIN,
      detectors: rcfDetectorFactory(),
      thresholds: thresholdsNone,
      onScored: (records) => {
        scored.push(...records);
      },
      onParts: () => {},
    }),
  );
  runs.replayWall.push(replay.wall);
  runs.replayCpu.push(replay.cpu);
  const verdicts = scored.map(verdictOf);
  const input = { device: device("d-0"), readings: engineReadings, rules: [], candidate, fromMs: T0, toMs };
  const archived = await measure(READINGS, () =>
    runBacktest({ ...input, verdicts }, { windowMs: MIN, detectors: rcfDetectorFactory() }),
  );
  if (archived.value.detector.source !== "archived") throw new Error("the archived mode ran the forest");
  runs.archivedWall.push(archived.wall);
  runs.archivedCpu.push(archived.cpu);
  archivedReport = archived.value;
  const forest = await measure(READINGS, () =>
    runBacktest(input, { windowMs: MIN, detectors: rcfDetectorFactory() }),
  );
  runs.forestWall.push(forest.wall);
  runs.forestCpu.push(forest.cpu);
  forestReport = forest.value;
}

// A real lake: 100 devices × 24 h (+ 6 h before for warm-up), 1 reading a minute, objects per arrival hour.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-bench-backtest-"));
const lakeDir = path.join(dir, "lake");
const DEVICES = 100;
const warm = 6 * 60;
const all: Reading[] = [];
for (let d = 0; d < DEVICES; d++)
  all.push(...readingsOf(`d-${d}`, T0 - warm * MIN, 1440 + warm, MIN, 100 + d));
const gzObject = (key: string, lines: string[]) => {
  const file = path.join(lakeDir, key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(lines.join("\n") + "\n"));
};
const byHour = new Map<string, string[]>();
for (const r of all) {
  const key = `readings/date=${r.receivedAt.slice(0, 10)}/hour=${r.receivedAt.slice(11, 13)}/bench-1.gz`;
  (byHour.get(key) ?? byHour.set(key, []).get(key)!).push(JSON.stringify(r));
}
for (const [key, lines] of byHour) gzObject(key, lines);
// The same readings without a scores archive (the forest mode's lake).
const bareLakeDir = path.join(dir, "lake-without-scores");
fs.mkdirSync(bareLakeDir);
fs.symlinkSync(path.join(lakeDir, "readings"), path.join(bareLakeDir, "readings"));

// 3a. 24 h × 100 devices: one DuckDB read, then one replay of all devices (one shard, forests shared per model, as
// live). Its scored records become the lake's scores archive, one object per window (as the scorer's per-batch
// objects), so 2. reads archived verdicts of a fleet-shared model.
let lake = new DuckDbLakeReader(lakeDir);
let t = performance.now();
const read: Reading[] = [];
for await (const page of lake.readReadings({ fromMs: T0 - warm * MIN, toMs: T0 + DAY })) read.push(...page);
const readMs = Math.round(performance.now() - t);
lake.close();
const fleetScored = new Map<string, ScoredRecord[]>();
t = performance.now();
const replayCpuAll = process.cpuUsage();
const replay = await replayReadings(read, {
  windowMs: MIN,
  detectors: rcfDetectorFactory(),
  thresholds: thresholdsNone,
  onScored: (records) => {
    for (const r of records)
      (fleetScored.get(r.windowStart) ?? fleetScored.set(r.windowStart, []).get(r.windowStart)!).push(r);
  },
  onParts: () => {},
});
const replayAllMs = Math.round(performance.now() - t);
const replayAllCpuSeconds = cpuSeconds(replayCpuAll);
let scoreObjects = 0;
for (const records of fleetScored.values()) {
  const at = records[0].arrivedAt;
  gzObject(
    `scores/date=${at.slice(0, 10)}/hour=${at.slice(11, 13)}/scores-${records[0].shardId}-${records[0].sequenceNumber}.ndjson.gz`,
    records.map((r) => JSON.stringify(r)),
  );
  scoreObjects += 1;
}

// 2. 1 day × 1 device through the HTTP handler: a cold DuckDB reader each run (a fresh process's first request),
// and one reader kept across requests, as local mode's API keeps it (the handler's dependencies are made once when
// `npm start` mounts the route); on the lake with the scores archive (archived verdicts) and without (forest).
const handlerOf = (reader: DuckDbLakeReader) =>
  createBacktestHandler(
    async () => ({
      devices: { get: async (id: string) => device(id) },
      thresholds: { getMany: async () => [] },
      lake: reader,
      detectors: rcfDetectorFactory(),
      settings: { windowMs: MIN, warmUpMs: 6 * 3_600_000, silenceWindows: 3, stuckReadings: 10 },
    }),
    async () => ({ user: "bench", role: "viewer" }) as never,
  );
type Answer = { readings: number; detector: { source: string }; candidate: { alerts: number } };
async function oneDayBacktest(handler: ReturnType<typeof handlerOf>): Promise<Answer> {
  const res = (await handler(
    {
      version: "2.0",
      routeKey: "POST /api/backtest",
      rawPath: "/api/backtest",
      rawQueryString: "",
      headers: { "content-type": "application/json" },
      isBase64Encoded: false,
      body: JSON.stringify({
        deviceId: "d-7",
        from: new Date(T0).toISOString(),
        to: new Date(T0 + DAY).toISOString(),
        rule: candidate,
      }),
      requestContext: { http: { method: "POST", path: "/api/backtest" } },
    } as never,
    { getRemainingTimeInMillis: () => 30_000 } as Context,
  )) as { statusCode: number; body: string };
  if (res.statusCode !== 200) throw new Error(`backtest answered ${res.statusCode}: ${res.body}`);
  return JSON.parse(res.body) as Answer;
}
const WARM_RUNS = 5;
const oneDay = {
  coldMs: [] as number[],
  archivedMs: [] as number[],
  archivedCpuMs: [] as number[],
  forestMs: [] as number[],
  forestCpuMs: [] as number[],
};
let oneDayArchived: Answer | undefined;
let oneDayForest: Answer | undefined;
for (let run = 0; run < RUNS; run++) {
  const reader = new DuckDbLakeReader(lakeDir);
  const started = performance.now();
  await oneDayBacktest(handlerOf(reader));
  oneDay.coldMs.push(Math.round(performance.now() - started));
  reader.close();
}
for (const [lakePath, msRuns, cpuRuns, mode] of [
  [lakeDir, oneDay.archivedMs, oneDay.archivedCpuMs, "archived"],
  [bareLakeDir, oneDay.forestMs, oneDay.forestCpuMs, "forest"],
] as const) {
  const reader = new DuckDbLakeReader(lakePath);
  const handler = handlerOf(reader);
  await oneDayBacktest(handler); // the first request loads the objects (measured above as the cold case)
  for (let run = 0; run < WARM_RUNS; run++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const answer = await oneDayBacktest(handler);
    msRuns.push(Math.round(performance.now() - started));
    cpuRuns.push(Math.round(cpuSeconds(cpu) * 1000));
    if (answer.detector.source !== mode)
      throw new Error(`1-day backtest used ${answer.detector.source}, not ${mode}`);
    if (mode === "archived") oneDayArchived = answer;
    else oneDayForest = answer;
  }
  reader.close();
}

// 3b. A backtest of every device of the fleet on its archived verdicts (from the lake: readings and scores).
lake = new DuckDbLakeReader(lakeDir);
const verdictsRead: ArchivedVerdict[] = [];
for await (const page of lake.readVerdicts({ fromMs: T0 - warm * MIN, toMs: T0 + DAY }))
  verdictsRead.push(...page);
lake.close();
const perDevice = new Map<string, Reading[]>();
for (const r of read) (perDevice.get(r.deviceId) ?? perDevice.set(r.deviceId, []).get(r.deviceId)!).push(r);
const verdictsPerDevice = new Map<string, ArchivedVerdict[]>();
for (const v of verdictsRead)
  (verdictsPerDevice.get(v.deviceId) ?? verdictsPerDevice.set(v.deviceId, []).get(v.deviceId)!).push(v);
t = performance.now();
let fleetAlerts = 0;
let fleetArchived = 0;
for (const [id, readings] of perDevice) {
  const report = await runBacktest(
    {
      device: device(id),
      readings,
      verdicts: verdictsPerDevice.get(id),
      rules: [],
      candidate,
      fromMs: T0,
      toMs: T0 + DAY,
    },
    { windowMs: MIN, detectors: rcfDetectorFactory() },
  );
  fleetAlerts += report.candidate.alerts;
  if (report.detector.source === "archived") fleetArchived += 1;
}
const backtestAllMs = Math.round(performance.now() - t);
fs.rmSync(dir, { recursive: true, force: true });

const result = {
  generatedAt: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model,
  cpus: os.cpus().length,
  loadAverageBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
  loadAverageAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
  engine: {
    readings: READINGS,
    metrics: 2,
    ruleSets: 2,
    archivedReadingsPerSecond: median(runs.archivedWall),
    archivedRuns: runs.archivedWall,
    archivedReadingsPerCpuSecond: median(runs.archivedCpu),
    archivedCpuRuns: runs.archivedCpu,
    forestReadingsPerSecond: median(runs.forestWall),
    forestRuns: runs.forestWall,
    forestReadingsPerCpuSecond: median(runs.forestCpu),
    forestCpuRuns: runs.forestCpu,
    forestAloneReadingsPerCpuSecond: median(runs.forestAloneCpu),
    forestAloneCpuRuns: runs.forestAloneCpu,
    forestModeShareOfForestAlone:
      Math.round((median(runs.forestCpu) / median(runs.forestAloneCpu)) * 100) / 100,
    replayPassReadingsPerSecond: median(runs.replayWall),
    replayPassReadingsPerCpuSecond: median(runs.replayCpu),
    replayCpuRuns: runs.replayCpu,
    target: 50_000,
    archivedAlerts: { current: archivedReport?.current.alerts, candidate: archivedReport?.candidate.alerts },
    forestAlerts: { current: forestReport?.current.alerts, candidate: forestReport?.candidate.alerts },
  },
  localOneDeviceOneDay: {
    readings: oneDayArchived?.readings,
    warmUpHours: 6,
    keptReaderRuns: WARM_RUNS,
    archivedMs: median(oneDay.archivedMs),
    archivedRuns: oneDay.archivedMs,
    archivedCpuMs: median(oneDay.archivedCpuMs),
    archivedCpuRuns: oneDay.archivedCpuMs,
    forestMs: median(oneDay.forestMs),
    forestRuns: oneDay.forestMs,
    forestCpuMs: median(oneDay.forestCpuMs),
    forestCpuRuns: oneDay.forestCpuMs,
    coldReaderMs: median(oneDay.coldMs),
    coldReaderRuns: oneDay.coldMs,
    candidateAlerts: { archived: oneDayArchived?.candidate.alerts, forest: oneDayForest?.candidate.alerts },
    targetMs: 2_000,
  },
  localHundredDevicesOneDay: {
    devices: DEVICES,
    readingsRead: read.length,
    duckdbReadMs: readMs,
    replayAllDevicesMs: replayAllMs,
    endToEndReplayMs: readMs + replayAllMs,
    replayReadings: replay.readings,
    replayAllDevicesReadingsPerCpuSecond: Math.round(replay.readings / replayAllCpuSeconds),
    scoreObjects,
    verdictsRead: verdictsRead.length,
    backtestEveryDeviceMs: backtestAllMs,
    devicesOnArchivedVerdicts: fleetArchived,
    candidateAlerts: fleetAlerts,
  },
};
const e = result.engine;
console.log(
  `backtest engine (2 rule sets, one pass), ${READINGS} readings: archived verdicts ${e.archivedReadingsPerSecond} readings/s wall, ${e.archivedReadingsPerCpuSecond}/CPU-s (CPU runs ${runs.archivedCpu.join(", ")}); forest ${e.forestReadingsPerSecond}/s wall, ${e.forestReadingsPerCpuSecond}/CPU-s (CPU runs ${runs.forestCpu.join(", ")}); target 50,000. Forest alone ${e.forestAloneReadingsPerCpuSecond}/CPU-s; one replay pass ${e.replayPassReadingsPerSecond}/s wall, ${e.replayPassReadingsPerCpuSecond}/CPU-s`,
);
const o = result.localOneDeviceOneDay;
console.log(
  `local 1 day × 1 device (HTTP handler, DuckDB, reader kept, median of ${WARM_RUNS}): archived verdicts ${o.archivedMs} ms, ${o.archivedCpuMs} CPU-ms (runs ${oneDay.archivedMs.join(", ")}); forest ${o.forestMs} ms, ${o.forestCpuMs} CPU-ms (runs ${oneDay.forestMs.join(", ")}); cold reader ${o.coldReaderMs} ms (runs ${oneDay.coldMs.join(", ")}); target < 2,000; ${o.readings} readings`,
);
console.log(
  `local 24 h × 100 devices: DuckDB read ${readMs} ms (${read.length} readings); replay of all ${replayAllMs} ms (${result.localHundredDevicesOneDay.replayAllDevicesReadingsPerCpuSecond} readings/CPU-s) → ${scoreObjects} scores objects; backtest of every device on archived verdicts ${backtestAllMs} ms (${fleetArchived} of ${perDevice.size} devices archived)`,
);
console.log(
  `load average before ${result.loadAverageBefore.join(" ")}, after ${result.loadAverageAfter.join(" ")}`,
);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "results", "backtest.json");
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
