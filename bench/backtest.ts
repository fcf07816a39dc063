/**
 * Backtest benchmark (issue 10):
 *  1. engine: readings/s through `runBacktest` (core: both rule sets, the detector run once and played back) and
 *     through one `replayReadings` pass, 1 device, 2 metrics, KDA forest, in-memory readings. Target ≥ 50,000/s.
 *     Beside it, the forest alone over the same points (the ceiling of any engine that runs the detector), and the
 *     rule path alone (a pass with the detector's results played back: what each rule set costs without the forest).
 *  2. local 1 day × 1 device: `POST /api/backtest` handler (the Lambda handler) with DuckDB over a real gzip NDJSON
 *     lake, 1 reading a minute (1,440 + 6 h warm-up), with a cold reader (first request) and with the reader kept
 *     across requests (as local mode's API keeps it). Target < 2 s.
 *  3. local 24 h × 100 devices: DuckDB read of the whole range, then a backtest of every device, and one replay of
 *     all devices together (what `driftwatch replay` does), 144,000 readings.
 *
 *   npx tsx bench/backtest.ts          (BACKTEST_BENCH_READINGS=50000, BACKTEST_BENCH_RUNS=3)
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
import { DetectorTape } from "../packages/core/src/backtest/replay-detectors.ts";
import { rcfDetectorFactory } from "../packages/core/src/scoring/rcf-detector-factory.ts";
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

// 1. Engine throughput.
const engineReadings = readingsOf("d-0", T0, READINGS, 10_000, 1);
const toMs = T0 + READINGS * 10_000 + MIN;
const engineRuns: number[] = [];
const engineCpuRuns: number[] = [];
const replayRuns: number[] = [];
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
const forestCpuRuns: number[] = [];
const replayCpuRuns: number[] = [];
const rulePathCpuRuns: number[] = [];
let lastReport;
for (let run = 0; run < RUNS; run++) {
  // The ceiling: the detector alone over the same points (one forest pass, nothing else), same process and run.
  const forestCpu = process.cpuUsage();
  const alone = rcfDetectorFactory().create(2);
  for (const r of engineReadings) alone.process([r.metrics.pressure, r.metrics.temp], r.deviceId);
  forestCpuRuns.push(Math.round(READINGS / cpuSeconds(forestCpu)));
  let t = performance.now();
  const cpu = process.cpuUsage();
  lastReport = await runBacktest(
    { device: device("d-0"), readings: engineReadings, rules: [], candidate, fromMs: T0, toMs },
    { windowMs: MIN, detectors: rcfDetectorFactory() },
  );
  engineRuns.push(Math.round(READINGS / ((performance.now() - t) / 1000)));
  engineCpuRuns.push(Math.round(READINGS / cpuSeconds(cpu)));
  t = performance.now();
  const replayCpu = process.cpuUsage();
  await replayReadings(engineReadings, {
    windowMs: MIN,
    detectors: rcfDetectorFactory(),
    thresholds: { resolve: async (d) => resolveThresholds(d, []) },
    onScored: () => {},
    onParts: () => {},
  });
  replayRuns.push(Math.round(READINGS / ((performance.now() - t) / 1000)));
  replayCpuRuns.push(Math.round(READINGS / cpuSeconds(replayCpu)));
  // The rule path alone: a pass whose detector plays back recorded results (what a backtest's second rule set
  // costs, and what an engine reading archived detector verdicts would pay per rule set; ADR 0903).
  const tape = new DetectorTape();
  const passOptions = {
    windowMs: MIN,
    thresholds: { resolve: async (d: ReturnType<typeof device>) => resolveThresholds(d, []) },
    onScored: () => {},
    onParts: () => {},
  };
  await replayReadings(engineReadings, { ...passOptions, detectors: tape.recording(rcfDetectorFactory()) });
  const ruleCpu = process.cpuUsage();
  await replayReadings(engineReadings, { ...passOptions, detectors: tape.playback() });
  rulePathCpuRuns.push(Math.round(READINGS / cpuSeconds(ruleCpu)));
}

// A real lake: 100 devices × 24 h (+ 6 h before for warm-up), 1 reading a minute, objects per arrival hour.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-bench-backtest-"));
const lakeDir = path.join(dir, "lake");
const DEVICES = 100;
const warm = 6 * 60;
const all: Reading[] = [];
for (let d = 0; d < DEVICES; d++)
  all.push(...readingsOf(`d-${d}`, T0 - warm * MIN, 1440 + warm, MIN, 100 + d));
const byHour = new Map<string, string[]>();
for (const r of all) {
  const key = `readings/date=${r.receivedAt.slice(0, 10)}/hour=${r.receivedAt.slice(11, 13)}/bench-1.gz`;
  (byHour.get(key) ?? byHour.set(key, []).get(key)!).push(JSON.stringify(r));
}
for (const [key, lines] of byHour) {
  const file = path.join(lakeDir, key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(lines.join("\n") + "\n"));
}

// 2. 1 day × 1 device through the HTTP handler: with a cold DuckDB reader each run (a fresh process's first
// request), and with one reader kept across requests, as local mode's API keeps it (the handler's dependencies are
// made once when `npm start` mounts the route).
const oneDeviceRuns: number[] = [];
const oneDeviceWarmRuns: number[] = [];
const oneDeviceWarmCpuRuns: number[] = [];
let oneDeviceReadings = 0;
const handlerOf = (lake: DuckDbLakeReader) =>
  createBacktestHandler(
    async () => ({
      devices: { get: async (id: string) => device(id) },
      thresholds: { getMany: async () => [] },
      lake,
      detectors: rcfDetectorFactory(),
      settings: { windowMs: MIN, warmUpMs: 6 * 3_600_000, silenceWindows: 3, stuckReadings: 10 },
    }),
    async () => ({ user: "bench", role: "viewer" }) as never,
  );
async function oneDayBacktest(handler: ReturnType<typeof handlerOf>): Promise<number> {
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
  return (JSON.parse(res.body) as { readings: number }).readings;
}
for (let run = 0; run < RUNS; run++) {
  const lake = new DuckDbLakeReader(lakeDir);
  const t = performance.now();
  oneDeviceReadings = await oneDayBacktest(handlerOf(lake));
  oneDeviceRuns.push(Math.round(performance.now() - t));
  lake.close();
}
{
  const lake = new DuckDbLakeReader(lakeDir);
  const handler = handlerOf(lake);
  await oneDayBacktest(handler); // the first request opens DuckDB (measured above as the cold case)
  for (let run = 0; run < RUNS; run++) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    await oneDayBacktest(handler);
    oneDeviceWarmRuns.push(Math.round(performance.now() - t));
    oneDeviceWarmCpuRuns.push(Math.round(cpuSeconds(cpu) * 1000));
  }
  lake.close();
}

// 3. 24 h × 100 devices: one lake read, a backtest per device, and one replay of all devices.
const lake = new DuckDbLakeReader(lakeDir);
let t = performance.now();
const read: Reading[] = [];
for await (const page of lake.readReadings({ fromMs: T0 - warm * MIN, toMs: T0 + DAY })) read.push(...page);
const readMs = Math.round(performance.now() - t);
lake.close();
const perDevice = new Map<string, Reading[]>();
for (const r of read) (perDevice.get(r.deviceId) ?? perDevice.set(r.deviceId, []).get(r.deviceId)!).push(r);
t = performance.now();
let fleetAlerts = 0;
for (const [id, readings] of perDevice) {
  const report = await runBacktest(
    { device: device(id), readings, rules: [], candidate, fromMs: T0, toMs: T0 + DAY },
    { windowMs: MIN, detectors: rcfDetectorFactory() },
  );
  fleetAlerts += report.candidate.alerts;
}
const backtestAllMs = Math.round(performance.now() - t);
t = performance.now();
const replayCpuAll = process.cpuUsage();
const replay = await replayReadings(read, {
  windowMs: MIN,
  detectors: rcfDetectorFactory(),
  thresholds: { resolve: async (d) => resolveThresholds(d, []) },
  onScored: () => {},
  onParts: () => {},
});
const replayAllMs = Math.round(performance.now() - t);
const replayAllCpuSeconds = cpuSeconds(replayCpuAll);
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
    backtestReadingsPerSecond: median(engineRuns),
    backtestRuns: engineRuns,
    backtestReadingsPerCpuSecond: median(engineCpuRuns),
    backtestCpuRuns: engineCpuRuns,
    replayPassReadingsPerSecond: median(replayRuns),
    replayRuns,
    replayPassReadingsPerCpuSecond: median(replayCpuRuns),
    replayCpuRuns,
    rulePathReadingsPerCpuSecond: median(rulePathCpuRuns),
    rulePathCpuRuns,
    forestAloneReadingsPerCpuSecond: median(forestCpuRuns),
    forestAloneCpuRuns: forestCpuRuns,
    backtestShareOfForestAlone: Math.round((median(engineCpuRuns) / median(forestCpuRuns)) * 100) / 100,
    target: 50_000,
    candidateAlerts: lastReport?.candidate.alerts,
  },
  localOneDeviceOneDay: {
    readings: oneDeviceReadings,
    warmUpHours: 6,
    ms: median(oneDeviceRuns),
    runs: oneDeviceRuns,
    warmMs: median(oneDeviceWarmRuns),
    warmRuns: oneDeviceWarmRuns,
    warmCpuMs: median(oneDeviceWarmCpuRuns),
    warmCpuRuns: oneDeviceWarmCpuRuns,
    targetMs: 2_000,
  },
  localHundredDevicesOneDay: {
    devices: DEVICES,
    readingsRead: read.length,
    duckdbReadMs: readMs,
    backtestEveryDeviceMs: backtestAllMs,
    endToEndBacktestMs: readMs + backtestAllMs,
    replayAllDevicesMs: replayAllMs,
    endToEndReplayMs: readMs + replayAllMs,
    replayReadings: replay.readings,
    replayAllDevicesReadingsPerCpuSecond: Math.round(replay.readings / replayAllCpuSeconds),
    candidateAlerts: fleetAlerts,
  },
};
console.log(
  `backtest engine: ${result.engine.backtestReadingsPerSecond} readings/s wall, ${result.engine.backtestReadingsPerCpuSecond}/CPU-s (CPU runs ${engineCpuRuns.join(", ")}; target 50,000); one replay pass ${result.engine.replayPassReadingsPerSecond}/s wall, ${result.engine.replayPassReadingsPerCpuSecond}/CPU-s; the forest alone ${result.engine.forestAloneReadingsPerCpuSecond}/CPU-s (backtest = ${result.engine.backtestShareOfForestAlone} × forest alone); the rule path alone (detector played back) ${result.engine.rulePathReadingsPerCpuSecond}/CPU-s`,
);
console.log(
  `local 1 day × 1 device (HTTP handler, DuckDB): cold reader ${result.localOneDeviceOneDay.ms} ms (runs ${oneDeviceRuns.join(", ")}); warm reader ${result.localOneDeviceOneDay.warmMs} ms, ${result.localOneDeviceOneDay.warmCpuMs} CPU-ms (runs ${oneDeviceWarmRuns.join(", ")}); target < 2,000; ${oneDeviceReadings} readings`,
);
console.log(
  `local 24 h × 100 devices: DuckDB read ${readMs} ms (${read.length} readings), backtest of every device ${backtestAllMs} ms → ${readMs + backtestAllMs} ms end to end; replay of all ${replayAllMs} ms → ${readMs + replayAllMs} ms (${result.localHundredDevicesOneDay.replayAllDevicesReadingsPerCpuSecond} readings/CPU-s)`,
);
console.log(
  `load average before ${result.loadAverageBefore.join(" ")}, after ${result.loadAverageAfter.join(" ")}`,
);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "results", "backtest.json");
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
