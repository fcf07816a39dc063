/**
 * Detector-only replay of the fleet benchmark's stream (issue 8), for measuring gradings of named series quickly.
 *
 * Phase 1 (`capture`, the slow part, cached in /tmp): the simulator's fleet (same seed, sizes and anomaly options as
 * `bench/detection.ts`) straight into one `AnomalyDetector` (defaults) per device type + metric set, the device id as
 * the series; per reading the raw forest score, the forest path's grade with the gate off, whether the point's own
 * score passes, and whether the model is calibrated. None of these depend on the local statistics, the gate or the
 * episode state, so every grading below replays on the same figures.
 * Phase 2 (per variant, seconds): a `SeriesNormalizer` with the variant's options over the same readings gives the
 * gate and the local path; the per-series episode state (suppression 150 of its points) is replayed as the
 * thresholder does. Detection = an anomalous reading inside [start, end + 10 s]; false alert = an episode started
 * outside every label (+ 10 s) of its device. Stuck and dropout are not graded here (other rules).
 *
 * Weather payloads are read as the ingest reads them (`<sensor>_smoothed` is a metric; ADR 0311), and
 * `REPLAY_NO_FOREST=1` captures without the forest (below), which a full simulated day needs.
 *
 *   DETECTION_SECONDS=1800 DETECTION_SEED=7 npx tsx bench/detection-replay.ts
 *   DETECTION_DEVICES=30 DETECTION_SECONDS=86400 REPLAY_NO_FOREST=1 REPLAY_DETAIL=1 npx tsx bench/detection-replay.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { AnomalyDetector } from "../packages/core/src/rcf/detector.ts";
import {
  defaultNormalizerOptions,
  SeriesNormalizer,
  type NormalizerOptions,
} from "../packages/core/src/rcf/series-normalizer.ts";
import type { AnomalyKind } from "../packages/core/src/simulator/anomaly-kind.ts";
import { simulatedDevices } from "../packages/core/src/simulator/devices.ts";
import type { GroundTruthLabel } from "../packages/core/src/simulator/ground-truth.ts";
import { createSimulation } from "../packages/core/src/simulator/simulation.ts";
import { weatherSource } from "../packages/core/src/telemetry/sources/weather.ts";

const DEVICES = Number(process.env.DETECTION_DEVICES ?? 100);
const SECONDS = Number(process.env.DETECTION_SECONDS ?? 1800);
const SEED = Number(process.env.DETECTION_SEED ?? 7);
const EVAL_FROM_S = 600;
const GRACE_MS = 10_000;
const T0 = Date.UTC(2024, 0, 1);
const DETAIL = process.env.REPLAY_DETAIL === "1";
/**
 * `REPLAY_NO_FOREST=1`: capture without the forest (much faster; issue 8 full-day runs). Only the named series' local
 * paths are replayed then: the forest's grade is 0, the own-score test fails, and a key counts as calibrated once it
 * has seen `NO_FOREST_CALIBRATED` points (the KDA forest's 256-point sample + the thresholder's 100-score warm-up),
 * which the first 600 s (not evaluated) cover. Variants with `forestPath: true` are not meaningful on such a capture.
 */
const NO_FOREST = process.env.REPLAY_NO_FOREST === "1";
const NO_FOREST_CALIBRATED = 356;
// "-v2": weather keys carry `<sensor>_smoothed` as the ingest does (older captures in /tmp lack it).
const CACHE = `/tmp/detection-replay-v2-${DEVICES}x${SECONDS}-s${SEED}${NO_FOREST ? "-noforest" : ""}.json`;

interface Capture {
  keys: string[];
  devices: string[];
  key: number[];
  device: number[];
  t: number[];
  values: number[][];
  score: number[];
  forestGrade: number[];
  ownPass: number[];
  calibrated: number[];
  labels: GroundTruthLabel[];
}

function capture(): Capture {
  const devices = simulatedDevices(DEVICES);
  const sim = createSimulation({
    seed: SEED,
    devices,
    anomalies: {
      kinds: ["spike", "shift", "drift", "stuck", "dropout"] as AnomalyKind[],
      rate: 0.0005,
      magnitudes: { spike: [6, 6], shift: [4, 4], drift: [4, 4] },
      durationsSeconds: { shift: [300, 900], drift: [300, 600], stuck: [30, 180], dropout: [180, 600] },
    },
  });
  const c: Capture = {
    keys: [],
    devices: devices.map((d) => d.deviceId),
    key: [],
    device: [],
    t: [],
    values: [],
    score: [],
    forestGrade: [],
    ownPass: [],
    calibrated: [],
    labels: [],
  };
  const detectors = new Map<string, AnomalyDetector>();
  // Gate and local path off, no suppression: the grade is the forest path's own, point by point.
  const options = {
    forest: { preset: "kda" as const },
    normalize: { alertDeviation: 0, spikeDeviation: 0 },
    thresholder: { suppression: 0 },
  };
  const total = DEVICES * SECONDS;
  const keyCount: number[] = [];
  for (let k = 0; k < total; k++) {
    const tMs = Math.round(T0 + (k * 1000) / DEVICES);
    const di = k % DEVICES;
    const step = sim.step(di, tMs);
    c.labels.push(...step.labels);
    if (!step.message) continue;
    // The metrics as the ingest reads them (bench/detection.ts's path): a weather payload also carries the station's
    // smoothed value, `<sensor>_smoothed` (the simulator's `metrics` lists the published value only).
    const metrics =
      devices[di].type === "weather"
        ? weatherSource.parse(step.message.topic, JSON.parse(step.message.payload) as Record<string, unknown>)
            .metrics
        : step.message.metrics;
    const names = Object.keys(metrics).sort();
    const key = `${devices[di].type}|${devices[di].manufacturer}#${devices[di].model}|${names.join(",")}`;
    let ki = c.keys.indexOf(key);
    if (ki < 0) ki = c.keys.push(key) - 1;
    const values = names.map((n) => metrics[n]);
    if (NO_FOREST) {
      const seen = (keyCount[ki] = (keyCount[ki] ?? 0) + 1);
      c.key.push(ki);
      c.device.push(di);
      c.t.push(tMs);
      c.values.push(values);
      c.score.push(0);
      c.forestGrade.push(0);
      c.ownPass.push(0);
      c.calibrated.push(seen > NO_FOREST_CALIBRATED ? 1 : 0);
      continue;
    }
    let det = detectors.get(key);
    if (!det) detectors.set(key, (det = new AnomalyDetector(names.length, options)));
    const thr = det.thresholder as unknown as {
      sum: number;
      weight: number;
      deviation(m: number): number;
      options: { absoluteFloor: number; zFactor: number };
    };
    const mean = thr.weight > 0 ? thr.sum / thr.weight : 0;
    const dev = thr.deviation(mean);
    const r = det.process(values, devices[di].deviceId);
    c.key.push(ki);
    c.device.push(di);
    c.t.push(tMs);
    c.values.push(values);
    c.score.push(r.score);
    c.forestGrade.push(r.grade);
    c.ownPass.push(
      r.score > thr.options.absoluteFloor && (r.score - mean) / dev > thr.options.zFactor ? 1 : 0,
    );
    c.calibrated.push(r.calibrated ? 1 : 0);
  }
  c.labels.push(...sim.finish());
  return c;
}

let cap: Capture;
if (existsSync(CACHE)) cap = JSON.parse(readFileSync(CACHE, "utf8")) as Capture;
else {
  const t0 = performance.now();
  cap = capture();
  writeFileSync(CACHE, JSON.stringify(cap));
  console.log(`captured ${cap.t.length} readings in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

/** A variant: normaliser options, plus an optional extra statistic (per series) that can raise a local grade. */
export interface Variant {
  name: string;
  normalize?: Partial<NormalizerOptions>;
  /**
   * Episodes go on while the series stays anomalous: an anomaly inside an episode keeps it open for the series' next
   * point (ADR 0311: measured, not adopted — it would change the thresholder NAB shares, for one alert in two days).
   */
  runs?: boolean;
}

function run(v: Variant) {
  const opts = { ...defaultNormalizerOptions, ...v.normalize };
  const norms = cap.keys.map(
    (_, i) => new SeriesNormalizer(cap.values.find((_, k) => cap.key[k] === i)!.length, opts, 50_000),
  );
  const out = new Float64Array(8);
  const cooldown = new Map<string, number>();
  const anomalous: boolean[] = [];
  const episode: boolean[] = [];
  const localOf: number[] = [];
  for (let k = 0; k < cap.t.length; k++) {
    const n = norms[cap.key[k]];
    const series = cap.devices[cap.device[k]];
    const ready = n.apply(cap.values[k], series, out);
    const gate = opts.alertDeviation;
    const eligible = opts.forestPath && n.lastDeviation >= gate && n.lastLocalDeviation >= gate;
    let localGrade = 0;
    const kk = opts.spikeDeviation;
    if (kk > 0 && ready && cap.calibrated[k]) {
      const local = n.lastLocalDeviation;
      if (local >= kk) localGrade = Math.max(Number.MIN_VALUE, Math.min(1, 1 - Math.exp(-(local - kk) / kk)));
    }
    localOf.push(n.lastLocalDeviation);
    const id = `${cap.key[k]}|${series}`;
    let cd = cooldown.get(id) ?? 0;
    const suppressed = cd > 0;
    if (suppressed) cd--;
    let grade = cap.calibrated[k] && eligible ? cap.forestGrade[k] : 0;
    if (localGrade > grade) grade = localGrade;
    let ne = false;
    if (grade > 0 && !suppressed) {
      cd = 150;
      ne = true;
    } else if (grade > 0 && v.runs && cd < 1) cd = 1;
    cooldown.set(id, cd);
    anomalous.push(grade > 0 && (ne || cap.ownPass[k] === 1 || localGrade > 0));
    episode.push(ne);
  }
  // Evaluate.
  const evalFrom = T0 + EVAL_FROM_S * 1000;
  const byDevice = new Map<number, number[]>();
  for (let k = 0; k < cap.t.length; k++) {
    const list = byDevice.get(cap.device[k]) ?? [];
    list.push(k);
    byDevice.set(cap.device[k], list);
  }
  const spans = new Map<number, [number, number][]>();
  const row: Record<string, { n: number; at0: number; within60: number; caught: number }> = {};
  for (const l of cap.labels) {
    const di = cap.devices.indexOf(l.deviceId);
    const s = Date.parse(l.start);
    const e = Date.parse(l.end) + GRACE_MS;
    spans.set(di, [...(spans.get(di) ?? []), [s, e]]);
    if (!["spike", "shift", "drift"].includes(l.kind) || s < evalFrom) continue;
    const r = (row[l.kind] ??= { n: 0, at0: 0, within60: 0, caught: 0 });
    r.n++;
    let delay = -1;
    let idx = 0;
    for (const k of byDevice.get(di) ?? []) {
      if (cap.t[k] < s || cap.t[k] > e) continue;
      if (anomalous[k]) {
        delay = idx;
        break;
      }
      idx++;
    }
    if (DETAIL && (delay < 0 || (l.kind === "spike" && delay > 0) || (l.kind === "shift" && delay > 60))) {
      const ks = (byDevice.get(di) ?? []).filter((k) => cap.t[k] >= s && cap.t[k] <= e);
      const k0 = ks[0];
      const top = ks.reduce((b, k) => (localOf[k] > localOf[b] ? k : b), k0);
      console.log(
        `  miss ${l.kind} ${cap.keys[cap.key[k0]]} ${l.deviceId} ${l.metric} mag ${l.magnitude?.toFixed(3)} n ${ks.length} delay ${delay}: first local ${localOf[k0]?.toFixed(2)} fg ${cap.forestGrade[k0]?.toFixed(2)} max local ${localOf[top]?.toFixed(2)} @${ks.indexOf(top)} cal ${cap.calibrated[k0]}`,
      );
    }
    if (delay >= 0) r.caught++;
    if (delay === 0) r.at0++;
    if (delay >= 0 && delay <= 60) r.within60++;
  }
  let falseAlerts = 0;
  const healthy = new Map<number, { n: number; over: number[]; top: number[] }>();
  const bars = [4, 5, 5.5, 6, 6.5, 7, 8];
  for (let k = 0; k < cap.t.length; k++) {
    if (cap.t[k] < evalFrom) continue;
    const inside = (spans.get(cap.device[k]) ?? []).some(
      ([s, e]) => cap.t[k] >= s - 1000 && cap.t[k] <= e + 60_000,
    );
    if (DETAIL && !inside && cap.calibrated[k]) {
      const h = healthy.get(cap.key[k]) ?? { n: 0, over: bars.map(() => 0), top: [] };
      h.n++;
      bars.forEach((b, i) => {
        if (localOf[k] >= b) h.over[i]++;
      });
      h.top.push(localOf[k]);
      if (h.top.length > 64) h.top = h.top.sort((a, b) => b - a).slice(0, 5);
      healthy.set(cap.key[k], h);
    }
    if (!episode[k]) continue;
    if (!(spans.get(cap.device[k]) ?? []).some(([s, e]) => cap.t[k] >= s && cap.t[k] <= e)) {
      falseAlerts++;
      if (DETAIL)
        console.log(
          `  false ${cap.keys[cap.key[k]]} ${cap.devices[cap.device[k]]} t ${(cap.t[k] - T0) / 1000} local ${localOf[k].toFixed(2)} fg ${cap.forestGrade[k].toFixed(2)}`,
        );
    }
  }
  if (DETAIL)
    for (const [ki, h] of healthy)
      console.log(
        `  healthy ${cap.keys[ki]}: ${h.n}; local ≥ ${bars.map((b, i) => `${b}: ${h.over[i]}`).join(", ")}; top ${h.top
          .sort((a, b) => b - a)
          .slice(0, 5)
          .map((x) => x.toFixed(2))
          .join(" ")}`,
      );
  if (DETAIL)
    // The innovation path's learned gains (ADR 0310) at the end of the stream: median (min–max) over the devices.
    cap.keys.forEach((key, ki) => {
      const names = key.split("|")[2].split(",");
      const devices = [...new Set(cap.device.filter((_, k) => cap.key[k] === ki))];
      const parts = names.map((name, m) => {
        const g = devices
          .map((d) => norms[ki].innovationGain(cap.devices[d], m))
          .filter((x): x is number => x !== undefined)
          .sort((a, b) => a - b);
        if (g.length === 0) return `${name} -`;
        return `${name} ${g[g.length >> 1].toFixed(3)} (${g[0].toFixed(3)}–${g[g.length - 1].toFixed(3)})`;
      });
      console.log(`  gain ${key.split("|").slice(0, 2).join("|")}: ${parts.join(", ")}`);
    });
  const deviceDays = (DEVICES * (SECONDS - EVAL_FROM_S)) / 86_400;
  const p = (a: number, b: number) => `${a}/${b}`;
  console.log(
    `${v.name.padEnd(44)} spikes@0 ${p(row.spike?.at0 ?? 0, row.spike?.n ?? 0).padStart(6)}  shifts≤60 ${p(row.shift?.within60 ?? 0, row.shift?.n ?? 0).padStart(6)}  ramps ${p(row.drift?.caught ?? 0, row.drift?.n ?? 0).padStart(6)}  false ${falseAlerts} (${(falseAlerts / deviceDays).toFixed(3)}/dev-day)`,
  );
}

const variants: Variant[] = process.env.REPLAY_VARIANTS
  ? (JSON.parse(process.env.REPLAY_VARIANTS) as Variant[])
  : [
      { name: "defaults (ADR 0308)" },
      { name: "ADR 0306: local 8, forest path", normalize: { spikeDeviation: 8, forestPath: true } },
    ];
for (const v of variants) run(v);
