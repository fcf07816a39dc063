/**
 * Profile of the scoring handler's timed records only (issue 14): the real handler (`createScoreHandler`) with N
 * model keys of old forests (each a copy of one detector that learned 20,000 points), warmed, then R records in
 * batches of 1,000 under the V8 CPU profiler (or the sampling heap profiler). Prints the records per CPU-second, the
 * top functions by self time (or bytes allocated per record), and writes the profile for DevTools.
 *
 *   npx tsx bench/scoring-profile.ts
 *   SCORING_PROFILE_MODELS=50 SCORING_PROFILE_RECORDS=20000 SCORING_PROFILE_ALLOC=1 npx tsx bench/scoring-profile.ts
 *   SCORING_PROFILE_MODELS=500 SCORING_PROFILE_WARM=130 SCORING_PROFILE_RECORDS=10000 npx tsx bench/scoring-profile.ts
 *
 * Output: `SCORING_PROFILE_OUT` (default `bench/results/profiles/scoring-<models>.cpuprofile` or `.heapprofile`,
 * not committed). The profiler costs time: the rate printed is below `bench/scoring.ts`'s.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AnomalyDetector } from "../packages/core/src/rcf/index.ts";
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
  makeRecords,
  METRICS,
  pointFor,
  scoreEvent,
} from "./scoring-fixtures.ts";

const MODELS = Number(process.env.SCORING_PROFILE_MODELS ?? 1);
const RECORDS = Number(process.env.SCORING_PROFILE_RECORDS ?? 20_000);
const ALLOC = process.env.SCORING_PROFILE_ALLOC === "1";
const TOP = Number(process.env.SCORING_PROFILE_TOP ?? 30);
/**
 * Warm-up records per model key (default 400, as `bench/scoring.ts`). With 500 keys 400 means 200,000 handler calls
 * before the profile starts; 130 (≥ 31 readings per device: every series' baseline is known) is enough to profile.
 */
const WARM_PER_MODEL = Number(process.env.SCORING_PROFILE_WARM ?? 400);
const BATCH = 1_000;
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out =
  process.env.SCORING_PROFILE_OUT ??
  path.join(root, "bench/results/profiles", `scoring-${MODELS}.${ALLOC ? "heapprofile" : "cpuprofile"}`);

configureObservability({ logSink: () => {}, metrics: "off", logLevel: "ERROR" });
const devices = makeDevices(MODELS);
const factory = rcfDetectorFactory();
const template = factory.create(METRICS.length) as AnomalyDetector;
for (let i = 0; i < 20_000; i++)
  template.process(pointFor(10_000_000 + i), `template-${i % DEVICES_PER_MODEL}`);
const templateBytes = template.toCheckpoint();
const checkpoints = new MemoryCheckpointStore();
const handler = createScoreHandler(async () => ({
  preparer: testPreparer(devices),
  detectors: new DetectorPool(
    { create: () => factory.restore(templateBytes), restore: (b: Uint8Array) => factory.restore(b) },
    checkpoints,
    { now: () => performance.now() },
  ),
  thresholds: new CachedThresholds(new MemoryThresholds(), { now: () => Date.now() }),
  escalation: new RecordingEscalationStarter(),
  // The stores `bench/scoring.ts` measures with: they take each write and keep nothing, as the Lambda's adapters.
  metrics: new CountingMetricsStore(),
  archive: new CountingArchive(),
  checkpoints,
  clock: { now: () => performance.now() },
  options: { windowMs: 3_600_000, silenceWindows: 0 },
}));

const t0 = Date.UTC(2024, 0, 1);
let state: Record<string, unknown> = {};
const run = async (records: ReturnType<typeof makeRecords>) => {
  for (let i = 0; i < records.length; i += BATCH)
    state = (await handler(scoreEvent(records.slice(i, i + BATCH), t0, state), benchContext)).state;
};
const warm = makeRecords(devices, 0, MODELS * WARM_PER_MODEL + 5_000, t0);
await run(warm);
const measured = makeRecords(devices, warm.length, RECORDS, t0);

const session = new Session();
session.connect();
if (ALLOC) {
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
} else {
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
}
const cpuStarted = process.cpuUsage();
await run(measured);
const cpu = process.cpuUsage(cpuStarted);
const profile = ALLOC
  ? (await session.post("HeapProfiler.stopSampling")).profile
  : (await session.post("Profiler.stop")).profile;
session.disconnect();

interface Frame {
  functionName: string;
  url: string;
}
/** Function and file (tsx compiles each module to one line, so line numbers say nothing). */
const name = (f: Frame) =>
  `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}`.trim();
const self = new Map<string, number>();
let total = 0;
if (ALLOC) {
  type HeapNode = { callFrame: Frame; selfSize: number; children: HeapNode[] };
  const walk = (n: HeapNode) => {
    self.set(name(n.callFrame), (self.get(name(n.callFrame)) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk((profile as { head: HeapNode }).head);
} else {
  const p = profile as { nodes: { id: number; callFrame: Frame }[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const key = name(byId.get(id)!.callFrame);
    self.set(key, (self.get(key) ?? 0) + p.timeDeltas[i]);
    total += p.timeDeltas[i];
  });
}
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(profile));

const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  `scoring handler, ${MODELS} model key(s), ${RECORDS} records: ${Math.round(RECORDS / cpuSeconds)} records per CPU-second under the ${ALLOC ? "heap" : "CPU"} profiler`,
);
console.log(
  ALLOC
    ? `allocated ${(total / RECORDS / 1024).toFixed(1)} KiB per record; top by bytes:`
    : "top by self time:",
);
for (const [key, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP))
  console.log(
    ALLOC
      ? `  ${(v / RECORDS / 1024).toFixed(2).padStart(7)} KiB  ${key}`
      : `  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${key}`,
  );
console.log(`wrote ${path.relative(root, out)}`);
