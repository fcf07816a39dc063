/**
 * The fleet detection benchmark of record (issue 8): the simulator's fleet (all four seed device types) with
 * anomalies sized to each series' own noise σ (the simulator's `fluctuationScale`), ground truth, fixed seed,
 * driven through the SAME path as the scoring Lambda — the ingest preparer (`createReadingPreparer`, vault off)
 * and `WindowScorer` (the rules it calls: anomaly, bounds, stuck, silence) with the real `DetectorPool` +
 * `rcfDetectorFactory` — in-process, 60-second tumbling windows on arrival time, batches of 100, one shard,
 * event time simulated (runs as fast as the code does).
 *
 *   npx tsx bench/detection.ts   (DETECTION_DEVICES=100, DETECTION_SECONDS=86400 per device at 1 Hz, DETECTION_SEED=7)
 *
 * Injected (defaults): single-point spikes of 6σ, level shifts of 4σ for 5–15 min, ramps (`drift`) reaching 4σ
 * over 5–10 min, stuck runs of 30–180 s, dropouts of 3–10 windows. Per kind: recall (an alert of the device in
 * [start, end + grace]), recall at delay 0 and within 60 readings, delay in the device's own readings (p50/p90);
 * dropouts: silence alerts per dropout (exactly one wanted). False alerts: alerts the scorer started (escalation
 * executions, all rules, as an operator receives them) outside every labelled span + grace of their device, per
 * device per day. Labels starting before `DETECTION_EVAL_FROM_S` (default 600 s: models calibrating) and alerts
 * before then are not evaluated. Prints a table, writes bench/results/detection.json (runs keyed by
 * DETECTION_LABEL). Method and figures: docs/benchmarks/detection.md.
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
import type { ScoreArchive } from "../packages/core/src/ports/score-archive.ts";
import type { ScoredRecord } from "../packages/core/src/scoring/scored-record.ts";
import { encodeEnvelope } from "../packages/core/src/telemetry/envelope.ts";
import { DETAIL, dropoutSpanEnd, rulesDetail, SeriesKeeper } from "./detection-rules-detail.ts";
import { printTrace, TRACE, TraceArchive, TracingPool } from "./detection-trace.ts";
import { CachedThresholds } from "../packages/core/src/thresholds/cached-thresholds.ts";
import {
  MemoryCheckpointStore,
  MemoryMetricsStore,
  MemoryThresholds,
  RecordingEscalationStarter,
  testPreparer,
} from "../packages/core/test/scoring/support.ts";

const DEVICES = Number(process.env.DETECTION_DEVICES ?? 100);
const MESSAGES_PER_DEVICE = Number(process.env.DETECTION_SECONDS ?? process.env.DETECTION_MESSAGES ?? 86_400);
const SEED = Number(process.env.DETECTION_SEED ?? 7);
const EVAL_FROM_S = Number(process.env.DETECTION_EVAL_FROM_S ?? 600);
const LABEL = process.env.DETECTION_LABEL ?? "current";
const RATE = DEVICES; // messages/s for the fleet: one message per device per second
/** Per message; ≈ 0.0005 ⇒ about 40 anomalies per device-day, at most one at a time. */
const ANOMALY_RATE = Number(process.env.DETECTION_ANOMALY_RATE ?? 0.0005);
const KINDS = (process.env.DETECTION_KINDS ?? "spike,shift,drift,stuck,dropout").split(",") as AnomalyKind[];
/** Sizes in multiples of each series' σ and durations in seconds (issue 8's definitions). */
const MAGNITUDES = { spike: [6, 6], shift: [4, 4], drift: [4, 4] } as const;
const DURATIONS = { shift: [300, 900], drift: [300, 600], stuck: [30, 180], dropout: [180, 600] } as const;
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
  anomalies: {
    kinds: KINDS,
    rate: ANOMALY_RATE,
    magnitudes: MAGNITUDES,
    durationsSeconds: DURATIONS,
  },
});

let now = T0;
const clock = { now: () => now };
/** Keeps what the evaluation needs of 8.6 M scored records: per device its reading times and its alerting ones. */
class EvaluationArchive implements ScoreArchive {
  readonly times = new Map<string, number[]>();
  readonly flagged: { deviceId: string; t: number; rules: string[]; anomaly: boolean }[] = [];
  /** Stuck/dropout detail (`DETECTION_DETAIL=1`, bench/detection-rules-detail.ts). */
  readonly keeper = DETAIL ? new SeriesKeeper() : undefined;
  /** Per-miss dump (`DETECTION_TRACE=1`, bench/detection-trace.ts). */
  readonly trace = TRACE ? new TraceArchive() : undefined;
  async putMany(records: readonly ScoredRecord[]) {
    for (const r of records) {
      this.keeper?.add(r);
      this.trace?.add(r);
      const t = Date.parse(r.ts);
      let list = this.times.get(r.deviceId);
      if (!list) this.times.set(r.deviceId, (list = []));
      list.push(t);
      if (r.anomaly || r.rules.length > 0)
        this.flagged.push({ deviceId: r.deviceId, t, rules: r.rules, anomaly: r.anomaly });
    }
  }
}
const archive = new EvaluationArchive();
const escalation = new RecordingEscalationStarter();
const checkpoints = new MemoryCheckpointStore();
const scorer = new WindowScorer({
  preparer: testPreparer(devices.map(toRegistryDevice)),
  detectors: new (TRACE ? TracingPool : DetectorPool)(
    modeFactory(
      rcfDetectorFactory({
        ...(process.env.DETECTION_THRESHOLDER
          ? { thresholder: JSON.parse(process.env.DETECTION_THRESHOLDER) as Record<string, number> }
          : {}),
        ...(process.env.DETECTION_NORMALIZE
          ? { normalize: JSON.parse(process.env.DETECTION_NORMALIZE) as boolean | Record<string, number> }
          : {}),
        ...(process.env.DETECTION_FOREST
          ? { forest: JSON.parse(process.env.DETECTION_FOREST) as Record<string, number> }
          : {}),
      }),
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
    ...(process.env.DETECTION_SILENCE_WINDOWS !== undefined
      ? { silenceWindows: Number(process.env.DETECTION_SILENCE_WINDOWS) }
      : {}),
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
let lastProgress = performance.now();
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
  if (performance.now() - lastProgress > 30_000) {
    lastProgress = performance.now();
    process.stderr.write(`  ${((100 * k) / total).toFixed(1)} % (${k} readings)\n`);
  }
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
const silenceSpanMs = 5 * WINDOW_MS; // a silence alert is raised some windows after the device goes quiet
/**
 * The last final invoke closes the window holding the last arrivals (≈ 50 ms past the run's end), and in that window
 * every device is quiet because the run ended, not because of an outage: alerts stamped at or after the run's end
 * (silence alerts carry their window's start) are not evaluated.
 */
const runEndMs = T0 + MESSAGES_PER_DEVICE * 1000;
const executions = [...escalation.executions.values()]
  .filter((a) => Date.parse(a.ts) < runEndMs)
  .map((a) => ({
    deviceId: a.deviceId,
    t: Date.parse(a.ts),
    rule: a.rule,
    kind: a.kind,
    /** `silence:site`: the site's quiet devices (its subject is `site:<site>`). */
    devices: a.devices,
    /** The metrics that caused it, with values and expected ranges (for the detail of false alerts). */
    causes: a.causes,
  }));
/** Devices an alert is about: a site silence is about every device it lists. */
const subjectsOf = (e: { deviceId: string; devices?: string[] }) =>
  e.deviceId.startsWith("site:") ? (e.devices ?? []) : [e.deviceId];
/**
 * A dropout cut by the end of the run that lasted less than the issue's shortest outage (3 windows) is no outage
 * the rule could be held to: counted apart (`dropoutsTruncatedShort`), not as a miss.
 */
const MIN_DROPOUT_MS = 3 * WINDOW_MS;
const truncatedShort = (l: GroundTruthLabel) =>
  l.kind === "dropout" && l.truncated === true && Date.parse(l.end) - Date.parse(l.start) < MIN_DROPOUT_MS;
const ruleOf = (rule: string) => (rule.startsWith("stuck:") ? "stuck" : rule.split(":")[0]);
/**
 * Some payloads carry whole-second timestamps (the medical seed), so the anomalous reading's event time can be up to
 * 999 ms before the simulator's label start (which has the message's millisecond time): records match a label from
 * its start minus this slack. At 1 Hz per device the previous reading is 1000 ms earlier and never matches.
 */
const TS_SLACK_MS = 999;
const spansByDevice = new Map<string, [number, number][]>();
for (const l of labels) {
  const list = spansByDevice.get(l.deviceId) ?? [];
  const end = Date.parse(l.end) + (l.kind === "dropout" ? silenceSpanMs : GRACE_MS);
  list.push([Date.parse(l.start) - TS_SLACK_MS, end]);
  spansByDevice.set(l.deviceId, list);
}
/**
 * A level shift or ramp ends in a step back of the same size, and the detector may flag that return as it flags the
 * onset: within the same budget of 60 of the metric's own readings (its cadence from the label). An anomaly alert
 * naming the label's metric in that span after the end is counted as a *return* of that label, apart from false
 * alerts (both are printed; the strict count, grace only, is their sum).
 */
const RETURN_READINGS = 60;
const returnsByDevice = new Map<string, { from: number; to: number; metrics: string[] }[]>();
for (const l of labels) {
  if ((l.kind !== "shift" && l.kind !== "drift") || l.messages < 2) continue;
  const start = Date.parse(l.start);
  const end = Date.parse(l.end);
  const interval = (end - start) / (l.messages - 1);
  const list = returnsByDevice.get(l.deviceId) ?? [];
  list.push({ from: end, to: end + RETURN_READINGS * interval, metrics: [l.metric, ...(l.metrics ?? [])] });
  returnsByDevice.set(l.deviceId, list);
}
/** The metric a cause names, without the ingest's `_smoothed` companion suffix (ADR 0311). */
const baseMetric = (metric: string) => metric.replace(/_smoothed$/, "");
const isReturn = (a: { deviceId: string; t: number; rule: string; causes?: { metric: string }[] }) =>
  ruleOf(a.rule) === "anomaly" &&
  (returnsByDevice.get(a.deviceId) ?? []).some(
    (r) =>
      a.t > r.from && a.t <= r.to && (a.causes ?? []).some((c) => r.metrics.includes(baseMetric(c.metric))),
  );
/** Alerting records per device (every anomalous record, whether or not an alert was started for it). */
const flaggedByDevice = new Map<string, { t: number; rules: string[] }[]>();
for (const f of archive.flagged) {
  const list = flaggedByDevice.get(f.deviceId) ?? [];
  list.push(f);
  flaggedByDevice.set(f.deviceId, list);
}
let evaluatedReadings = 0;
for (const list of archive.times.values()) for (const t of list) if (t >= evalFrom) evaluatedReadings++;
/** The device's readings with event time in [from, to). */
function readingsBetween(deviceId: string, from: number, to: number): number {
  let n = 0;
  for (const t of archive.times.get(deviceId) ?? []) if (t >= from && t < to) n++;
  return n;
}
const quantile = (xs: number[], q: number) => (xs.length ? xs[Math.floor(q * (xs.length - 1))] : null);

interface KindRow {
  kind: string;
  injected: number;
  detected: number;
  recall: number;
  recallAt0: number;
  recallWithin60: number;
  byRule: Record<string, number>;
  delayReadingsP50: number | null;
  delayReadingsP90: number | null;
  /** Dropouts: how many got exactly one silence alert / none / more than one. */
  silenceExactlyOne?: number;
  silenceNone?: number;
  silenceMore?: number;
}
const rows: KindRow[] = [];
const missed: { label: GroundTruthLabel; delay: number | null }[] = [];
for (const kind of KINDS) {
  const ofKind = labels.filter(
    (l) => l.kind === kind && Date.parse(l.start) >= evalFrom && !truncatedShort(l),
  );
  const delays: number[] = [];
  const byRule: Record<string, number> = {};
  let exactlyOne = 0;
  let none = 0;
  let more = 0;
  for (const l of ofKind) {
    const start = Date.parse(l.start);
    if (kind === "dropout") {
      const end = dropoutSpanEnd(l, labels, silenceSpanMs);
      // One silence incident per outage: the device's own, or a site incident listing it.
      const silences = executions.filter(
        (e) => subjectsOf(e).includes(l.deviceId) && e.kind === "silence" && e.t >= start && e.t <= end,
      ).length;
      if (silences === 1) exactlyOne++;
      else if (silences === 0) none++;
      else more++;
      if (silences > 0) {
        delays.push(0);
        byRule.silence = (byRule.silence ?? 0) + 1;
      }
      continue;
    }
    const end = Date.parse(l.end) + GRACE_MS;
    const hits = (flaggedByDevice.get(l.deviceId) ?? []).filter(
      (a) => a.t >= start - TS_SLACK_MS && a.t <= end,
    );
    if (hits.length === 0) {
      missed.push({ label: l, delay: null });
      continue;
    }
    const first = Math.min(...hits.map((a) => a.t));
    const delay = readingsBetween(l.deviceId, start, first);
    delays.push(delay);
    if ((kind === "spike" && delay > 0) || (kind === "shift" && delay > 60)) missed.push({ label: l, delay });
    const rules = new Set(hits.flatMap((h) => h.rules.map(ruleOf)));
    for (const r of rules) byRule[r] = (byRule[r] ?? 0) + 1;
  }
  delays.sort((a, b) => a - b);
  const n = Math.max(1, ofKind.length);
  rows.push({
    kind,
    injected: ofKind.length,
    detected: delays.length,
    recall: delays.length / n,
    recallAt0: delays.filter((d) => d === 0).length / n,
    recallWithin60: delays.filter((d) => d <= 60).length / n,
    byRule,
    delayReadingsP50: quantile(delays, 0.5),
    delayReadingsP90: quantile(delays, 0.9),
    ...(kind === "dropout" ? { silenceExactlyOne: exactlyOne, silenceNone: none, silenceMore: more } : {}),
  });
}
// False alerts: alerts started (escalation executions, every rule) outside every labelled span of their device and
// not the return of a labelled shift or ramp (above).
let falseAlerts = 0;
let returnAlerts = 0;
const falseAnomalyAlerts: { deviceId: string; t: number }[] = [];
let evaluatedAlerts = 0;
const falseByRule: Record<string, number> = {};
const alertsByRule: Record<string, number> = {};
for (const a of executions) {
  if (a.t < evalFrom) continue;
  const rule = ruleOf(a.rule);
  evaluatedAlerts += 1;
  alertsByRule[rule] = (alertsByRule[rule] ?? 0) + 1;
  const spans = subjectsOf(a).flatMap((d) => spansByDevice.get(d) ?? []);
  if (!spans.some(([s, e]) => a.t >= s && a.t <= e)) {
    if (isReturn(a)) {
      returnAlerts += 1;
      if (DETAIL) console.log(`return alert ${new Date(a.t).toISOString()} ${a.deviceId} ${a.rule}`);
      continue;
    }
    falseAlerts += 1;
    if (DETAIL)
      console.log(
        `false alert ${new Date(a.t).toISOString()} ${a.deviceId} ${a.rule}: ${(a.causes ?? [])
          .map((c) => `${c.metric}=${c.value}${c.expected ? ` expected ${JSON.stringify(c.expected)}` : ""}`)
          .join(", ")}`,
      );
    if (rule === "anomaly") falseAnomalyAlerts.push({ deviceId: a.deviceId, t: a.t });
    falseByRule[rule] = (falseByRule[rule] ?? 0) + 1;
  }
}
// Stuck/dropout detail: why each missed one was missed (DETECTION_DETAIL=1; bench/detection-rules-detail.ts).
const rulesDetailOut = archive.keeper
  ? rulesDetail({
      labels,
      keeper: archive.keeper,
      times: archive.times,
      flagged: flaggedByDevice,
      executions,
      evalFrom,
      graceMs: GRACE_MS,
      windowMs: WINDOW_MS,
      silenceSpanMs,
    })
  : undefined;
if (archive.trace)
  printTrace({
    archive: archive.trace,
    labels,
    missed,
    falseAlerts: falseAnomalyAlerts,
    evalFrom,
    slackMs: TS_SLACK_MS,
    graceMs: GRACE_MS,
  });
const deviceDays = (DEVICES * Math.max(0, MESSAGES_PER_DEVICE - EVAL_FROM_S)) / 86_400;
const summary = {
  label: LABEL,
  mode: MODE,
  thresholderOverrides: process.env.DETECTION_THRESHOLDER ?? null,
  forestOverrides: process.env.DETECTION_FOREST ?? null,
  normalize: process.env.DETECTION_NORMALIZE ?? null,
  kindsInjected: KINDS,
  magnitudesSigma: MAGNITUDES,
  durationsSeconds: DURATIONS,
  devices: DEVICES,
  secondsPerDevice: MESSAGES_PER_DEVICE,
  readings,
  seed: SEED,
  anomalyRate: ANOMALY_RATE,
  evalFromSeconds: EVAL_FROM_S,
  graceSeconds: GRACE_MS / 1000,
  evaluatedReadings,
  deviceDays,
  stuckReadings: STUCK_READINGS ?? "default",
  alerts: evaluatedAlerts,
  alertsByRule,
  falseAlerts,
  falseAlertsByRule: falseByRule,
  falseAlertsPerDeviceDay: falseAlerts / Math.max(1e-9, deviceDays),
  returnReadings: RETURN_READINGS,
  returnAlerts,
  falseAlertsStrict: falseAlerts + returnAlerts,
  falseAlertsStrictPerDeviceDay: (falseAlerts + returnAlerts) / Math.max(1e-9, deviceDays),
  kinds: rows,
  dropoutsTruncatedShort: labels.filter((l) => Date.parse(l.start) >= evalFrom && truncatedShort(l)).length,
  ...(rulesDetailOut ? { rulesDetail: rulesDetailOut } : {}),
  elapsedSeconds: Math.round(elapsedS * 10) / 10,
  readingsPerSecond: Math.round(readings / elapsedS),
};

const pad = (s: string | number, n: number) => String(s).padStart(n);
const pct = (x: number) => (100 * x).toFixed(1) + "%";
console.log(
  `detection (${LABEL}, ${MODE}): ${DEVICES} devices × ${MESSAGES_PER_DEVICE} s at 1 Hz, seed ${SEED}, evaluated from ${EVAL_FROM_S} s (${deviceDays.toFixed(2)} device-days), grace ${GRACE_MS / 1000} s, ${summary.elapsedSeconds} s (${summary.readingsPerSecond} readings/s)`,
);
console.log(
  `${"kind".padEnd(8)}${pad("injected", 9)}${pad("detected", 9)}${pad("recall", 8)}${pad("@0", 8)}${pad("≤60", 8)}${pad("delay p50", 10)}${pad("p90", 6)}  by rule / notes`,
);
for (const r of rows) {
  const notes =
    r.kind === "dropout"
      ? `silence incidents: exactly one ${r.silenceExactlyOne}, none ${r.silenceNone}, more ${r.silenceMore}; cut short by the run's end (not counted) ${summary.dropoutsTruncatedShort}`
      : Object.entries(r.byRule)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ");
  console.log(
    `${r.kind.padEnd(8)}${pad(r.injected, 9)}${pad(r.detected, 9)}${pad(pct(r.recall), 8)}${pad(pct(r.recallAt0), 8)}${pad(pct(r.recallWithin60), 8)}${pad(r.delayReadingsP50 ?? "-", 10)}${pad(r.delayReadingsP90 ?? "-", 6)}  ${notes}`,
  );
}
console.log(
  `alerts started ${evaluatedAlerts} (${Object.entries(alertsByRule)
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ", ",
    )}); false ${falseAlerts} = ${summary.falseAlertsPerDeviceDay.toFixed(3)} per device per day (${Object.entries(
    falseByRule,
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ", ",
    )}); returns of a labelled shift or ramp (≤ ${RETURN_READINGS} readings after its end) ${returnAlerts}; ` +
    `strict (grace ${GRACE_MS / 1000} s only) ${summary.falseAlertsStrict} = ${summary.falseAlertsStrictPerDeviceDay.toFixed(3)} per device per day`,
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
