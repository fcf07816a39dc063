/**
 * Detection-quality benchmark: the simulator's fleet (all device types) with injected spike, drift and stuck
 * anomalies (ground truth, fixed seed) driven through the SAME path as the scoring Lambda — the ingest preparer
 * (`createReadingPreparer`, vault off) and `WindowScorer` with the real `DetectorPool` + `rcfDetectorFactory`
 * (KDA defaults) — in-process, in 60-second tumbling windows on arrival time, batches of 100 records, one shard.
 *
 *   npx tsx bench/detection.ts     (DETECTION_DEVICES=40, DETECTION_MESSAGES=2500 per device, DETECTION_SEED=7)
 *
 * Per anomaly kind: injected (evaluated), detected (an alert for that device with event time in
 * [start, end + grace]: the RCF `anomaly` rule or the stuck-sensor rule `stuck:<metric>`, ADR 0605), recall
 * (also per rule), detection delay (first alert − start); false alerts per 1,000 readings (alerts of a device
 * outside all its labelled spans + grace), per rule. `DETECTION_STUCK_READINGS` sets the scorer's default
 * `stuckReadings` (0 disables the stuck rule; unset: the scorer's default, 10). Labels that start before the models are
 * warm (`DETECTION_EVAL_FROM_S`, default 600 s) are not evaluated, nor are alerts before then.
 * Prints a table, writes bench/results/detection.json. Method and figures: docs/benchmarks/detection.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AnomalyKind } from "../packages/core/src/simulator/anomaly-kind.ts";
import { simulatedDevices, toRegistryDevice } from "../packages/core/src/simulator/devices.ts";
import type { GroundTruthLabel } from "../packages/core/src/simulator/ground-truth.ts";
import { createSimulation } from "../packages/core/src/simulator/simulation.ts";
import { DetectorPool } from "../packages/core/src/scoring/detector-pool.ts";
import { rcfDetectorFactory } from "../packages/core/src/scoring/rcf-detector-factory.ts";
import { WindowScorer, type StreamRecord } from "../packages/core/src/scoring/window-scorer.ts";
import { encodeEnvelope } from "../packages/core/src/telemetry/envelope.ts";
import { CachedThresholds } from "../packages/core/src/thresholds/cached-thresholds.ts";
import {
  MemoryArchive,
  MemoryCheckpointStore,
  MemoryMetricsStore,
  MemoryThresholds,
  RecordingEscalationStarter,
  testPreparer,
} from "../packages/core/test/scoring/support.ts";

const DEVICES = Number(process.env.DETECTION_DEVICES ?? 40);
const MESSAGES_PER_DEVICE = Number(process.env.DETECTION_MESSAGES ?? 2500);
const SEED = Number(process.env.DETECTION_SEED ?? 7);
const EVAL_FROM_S = Number(process.env.DETECTION_EVAL_FROM_S ?? 600);
const LABEL = process.env.DETECTION_LABEL ?? "current";
const RATE = DEVICES; // messages/s for the fleet: one message per device per second
const ANOMALY_RATE = Number(process.env.DETECTION_ANOMALY_RATE ?? 0.0015);
const KINDS = (process.env.DETECTION_KINDS ?? "spike,drift,stuck").split(",") as AnomalyKind[];
/**
 * `per-device` (the scorer as built: the device id is the detector's series) or `shared` (the detector ignores
 * the series: one suppression/smoothing state per detector key, the behaviour before ADR 0303) for comparison.
 */
const MODE = process.env.DETECTION_MODE ?? "per-device";
const STUCK_READINGS =
  process.env.DETECTION_STUCK_READINGS !== undefined
    ? Number(process.env.DETECTION_STUCK_READINGS)
    : undefined;
const WINDOW_MS = 60_000;
const BATCH = 100;
const GRACE_MS = 10_000;
const T0 = Date.UTC(2024, 0, 1);

const devices = simulatedDevices(DEVICES);
const simulation = createSimulation({
  seed: SEED,
  devices,
  anomalies: { kinds: KINDS, rate: ANOMALY_RATE },
});

let now = T0;
const clock = { now: () => now };
const archive = new MemoryArchive();
const escalation = new RecordingEscalationStarter();
const checkpoints = new MemoryCheckpointStore();
const scorer = new WindowScorer({
  preparer: testPreparer(devices.map(toRegistryDevice)),
  detectors: new DetectorPool(
    modeFactory(
      rcfDetectorFactory(
        process.env.DETECTION_THRESHOLDER
          ? { thresholder: JSON.parse(process.env.DETECTION_THRESHOLDER) as Record<string, number> }
          : {},
      ),
    ),
    checkpoints,
    clock,
  ),
  thresholds: new CachedThresholds(new MemoryThresholds([]), clock),
  escalation,
  metrics: new MemoryMetricsStore(),
  archive,
  checkpoints,
  clock,
  options: {
    windowMs: WINDOW_MS,
    silenceWindows: 0,
    ...(STUCK_READINGS !== undefined ? { stuckReadings: STUCK_READINGS } : {}),
  },
});

function modeFactory(f: ReturnType<typeof rcfDetectorFactory>): ReturnType<typeof rcfDetectorFactory> {
  if (MODE === "shared") {
    return {
      restore: f.restore,
      create: (d) => {
        const det = f.create(d);
        return {
          dimensions: det.dimensions,
          process: (point: ArrayLike<number>) => det.process(point),
          toCheckpoint: (o?: { compress?: boolean }) => det.toCheckpoint(o),
        };
      },
    };
  }
  return f;
}

// Generate the stream: message k is device k mod DEVICES at T0 + k / RATE s; arrival 50 ms later.
const labels: GroundTruthLabel[] = [];
const total = DEVICES * MESSAGES_PER_DEVICE;
let seq = 10n ** 40n;
const started = performance.now();
let windowStart = T0 - (T0 % WINDOW_MS);
let state: Record<string, unknown> | undefined;
let pending: StreamRecord[] = [];
let readings = 0;

async function invoke(records: StreamRecord[], final: boolean) {
  const result = await scorer.processBatch({
    shardId: "shardId-000000000000",
    window: { startMs: windowStart, endMs: windowStart + WINDOW_MS },
    state,
    isFinalInvokeForWindow: final,
    isWindowTerminatedEarly: false,
    records,
  });
  if (result.failedSequenceNumber !== undefined) throw new Error("a record failed");
  state = result.state;
}

for (let k = 0; k < total; k++) {
  const eventMs = Math.round(T0 + (k * 1000) / RATE);
  const step = simulation.step(k % DEVICES, eventMs);
  labels.push(...step.labels);
  if (!step.message) continue;
  const arrivalMs = eventMs + 50;
  while (arrivalMs >= windowStart + WINDOW_MS) {
    now = windowStart + WINDOW_MS;
    await invoke(pending, true);
    pending = [];
    state = undefined;
    windowStart += WINDOW_MS;
  }
  seq += 1n;
  const envelope = encodeEnvelope(step.message.topic, step.message.payload, arrivalMs - 5);
  pending.push({
    sequenceNumber: seq.toString(),
    partitionKey: step.message.deviceId,
    arrivalMs,
    data: Buffer.from(JSON.stringify(envelope)).toString("base64"),
  });
  readings += 1;
  if (pending.length >= BATCH) {
    now = arrivalMs;
    await invoke(pending, false);
    pending = [];
  }
}
now = windowStart + WINDOW_MS;
await invoke(pending, true);
labels.push(...simulation.finish());
const elapsedS = (performance.now() - started) / 1000;

// Evaluate.
const evalFrom = T0 + EVAL_FROM_S * 1000;
type Rule = "anomaly" | "stuck";
/** Alerts: the RCF rule (`anomaly` on the record) and stuck-sensor raises (`stuck:<metric>` in its rules). */
const alerts: { deviceId: string; t: number; rule: Rule }[] = [];
for (const r of archive.records) {
  if (r.anomaly) alerts.push({ deviceId: r.deviceId, t: Date.parse(r.ts), rule: "anomaly" });
  if (r.rules.some((x) => x.startsWith("stuck:")))
    alerts.push({ deviceId: r.deviceId, t: Date.parse(r.ts), rule: "stuck" });
}
const alertsByDevice = new Map<string, { t: number; rule: Rule }[]>();
for (const a of alerts) {
  const list = alertsByDevice.get(a.deviceId) ?? [];
  list.push(a);
  alertsByDevice.set(a.deviceId, list);
}
const spansByDevice = new Map<string, [number, number][]>();
for (const l of labels) {
  const list = spansByDevice.get(l.deviceId) ?? [];
  list.push([Date.parse(l.start), Date.parse(l.end) + GRACE_MS]);
  spansByDevice.set(l.deviceId, list);
}
const evaluatedReadings = archive.records.filter((r) => Date.parse(r.ts) >= evalFrom).length;

interface KindRow {
  kind: string;
  injected: number;
  detected: number;
  recall: number;
  /** Detected by the RCF rule / by the stuck rule (a label can be both). */
  detectedByAnomaly: number;
  detectedByStuck: number;
  delayMedianS: number | null;
  delayP90S: number | null;
}
const rows: KindRow[] = [];
for (const kind of KINDS) {
  const ofKind = labels.filter((l) => l.kind === kind && Date.parse(l.start) >= evalFrom);
  const delays: number[] = [];
  let byAnomaly = 0;
  let byStuck = 0;
  for (const l of ofKind) {
    const start = Date.parse(l.start);
    const end = Date.parse(l.end) + GRACE_MS;
    const hit = (alertsByDevice.get(l.deviceId) ?? []).filter((a) => a.t >= start && a.t <= end);
    if (hit.length > 0) delays.push((Math.min(...hit.map((a) => a.t)) - start) / 1000);
    if (hit.some((a) => a.rule === "anomaly")) byAnomaly += 1;
    if (hit.some((a) => a.rule === "stuck")) byStuck += 1;
  }
  delays.sort((a, b) => a - b);
  rows.push({
    kind,
    injected: ofKind.length,
    detected: delays.length,
    recall: ofKind.length ? delays.length / ofKind.length : 0,
    detectedByAnomaly: byAnomaly,
    detectedByStuck: byStuck,
    delayMedianS: delays.length ? delays[Math.floor((delays.length - 1) / 2)] : null,
    delayP90S: delays.length ? delays[Math.floor(0.9 * (delays.length - 1))] : null,
  });
}
let falseAlerts = 0;
let evaluatedAlerts = 0;
const falseByRule: Record<Rule, number> = { anomaly: 0, stuck: 0 };
const alertsByRule: Record<Rule, number> = { anomaly: 0, stuck: 0 };
for (const a of alerts) {
  if (a.t < evalFrom) continue;
  evaluatedAlerts += 1;
  alertsByRule[a.rule] += 1;
  const spans = spansByDevice.get(a.deviceId) ?? [];
  if (!spans.some(([s, e]) => a.t >= s && a.t <= e)) {
    falseAlerts += 1;
    falseByRule[a.rule] += 1;
  }
}
const executions = [...escalation.executions.values()];
const anomalyExecutions = executions.filter((a) => a.kind === "anomaly").length;
const stuckExecutions = executions.filter((a) => a.rule.startsWith("stuck:")).length;
const summary = {
  label: LABEL,
  mode: MODE,
  thresholderOverrides: process.env.DETECTION_THRESHOLDER ?? null,
  kindsInjected: KINDS,
  devices: DEVICES,
  messagesPerDevice: MESSAGES_PER_DEVICE,
  readings,
  seed: SEED,
  anomalyRate: ANOMALY_RATE,
  evalFromSeconds: EVAL_FROM_S,
  graceSeconds: GRACE_MS / 1000,
  evaluatedReadings,
  stuckReadings: STUCK_READINGS ?? "default",
  alerts: evaluatedAlerts,
  alertsByRule,
  falseAlerts,
  falseAlertsByRule: falseByRule,
  falseAlertsPer1000: (1000 * falseAlerts) / Math.max(1, evaluatedReadings),
  escalationsStarted: anomalyExecutions,
  stuckEscalationsStarted: stuckExecutions,
  kinds: rows,
  totalInjected: rows.reduce((s, r) => s + r.injected, 0),
  totalDetected: rows.reduce((s, r) => s + r.detected, 0),
  elapsedSeconds: Math.round(elapsedS * 10) / 10,
};

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(
  `detection (${LABEL}, ${MODE}): ${DEVICES} devices × ${MESSAGES_PER_DEVICE} messages, seed ${SEED}, evaluated from ${EVAL_FROM_S} s, grace ${GRACE_MS / 1000} s, ${summary.elapsedSeconds} s`,
);
console.log(
  `${"kind".padEnd(8)}${pad("injected", 10)}${pad("detected", 10)}${pad("recall", 9)}${pad("by RCF", 8)}${pad("by stuck", 10)}${pad("delay p50 s", 13)}${pad("p90 s", 8)}`,
);
for (const r of rows) {
  console.log(
    `${r.kind.padEnd(8)}${pad(r.injected, 10)}${pad(r.detected, 10)}${pad((100 * r.recall).toFixed(1) + "%", 9)}${pad(r.detectedByAnomaly, 8)}${pad(r.detectedByStuck, 10)}${pad(r.delayMedianS ?? "-", 13)}${pad(r.delayP90S ?? "-", 8)}`,
  );
}
console.log(
  `all     ${pad(summary.totalInjected, 10)}${pad(summary.totalDetected, 10)}${pad(((100 * summary.totalDetected) / Math.max(1, summary.totalInjected)).toFixed(1) + "%", 9)}`,
);
console.log(
  `alerts ${evaluatedAlerts} on ${evaluatedReadings} readings (RCF ${alertsByRule.anomaly}, stuck ${alertsByRule.stuck}); false ${falseAlerts} = ${summary.falseAlertsPer1000.toFixed(2)} per 1,000 readings (RCF ${falseByRule.anomaly}, stuck ${falseByRule.stuck}); escalations started: anomaly ${anomalyExecutions}, stuck ${stuckExecutions}`,
);

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "results", "detection.json");
mkdirSync(path.dirname(out), { recursive: true });
let previous: Record<string, unknown> = {};
try {
  previous = JSON.parse((await import("node:fs")).readFileSync(out, "utf8")) as Record<string, unknown>;
} catch {
  previous = {};
}
const runs = (previous.runs as Record<string, unknown> | undefined) ?? {};
runs[LABEL] = { ...summary, at: new Date().toISOString() };
writeFileSync(out, `${JSON.stringify({ runs }, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
