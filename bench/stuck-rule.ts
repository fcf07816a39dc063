/**
 * The stuck-sensor rule alone (ADR 0605), over the detection benchmark's fleet (issue 8 sizes and durations): how
 * many injected stuck runs it catches and how many alerts it raises outside them, per learned-bar factor, with and
 * without injection. The rule only sees each metric's values and event times, so this runs the simulator's
 * published metrics straight into `StuckTracker` (no forest): seconds, not the full benchmark's half hour.
 *
 *   npx tsx bench/stuck-rule.ts     (STUCK_DEVICES=100, STUCK_SECONDS=7200, STUCK_SEEDS=7,1,3, STUCK_FACTORS=3,2.5,2,
 *                                    STUCK_VARIANTS=bounds,v1: the tracker with floor/ceiling classes, and without;
 *                                    STUCK_N: the rule's N, default DEFAULT_STUCK_READINGS)
 *
 * Each row is one (variant, factor); STUCK_DETAIL=1 prints every false alert (device type, metric, value, run) and
 * the missed labels per metric.
 *
 * Counted like bench/detection.ts: a label is caught by an alert of its device on one of its metrics in
 * [start, end + 10 s], labels and alerts before 600 s are not evaluated; false = alerts outside every stuck label
 * (+ 10 s) of the device. Writes bench/results/stuck-rule.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_STUCK_READINGS,
  StuckTracker,
  type StuckTrackerOptions,
  type StuckVerdict,
} from "../packages/core/src/scoring/stuck-tracker.ts";
import { simulatedDevices } from "../packages/core/src/simulator/devices.ts";
import type { GroundTruthLabel } from "../packages/core/src/simulator/ground-truth.ts";
import { createSimulation } from "../packages/core/src/simulator/simulation.ts";

const DEVICES = Number(process.env.STUCK_DEVICES ?? 100);
const SECONDS = Number(process.env.STUCK_SECONDS ?? 7200);
const SEEDS = (process.env.STUCK_SEEDS ?? "7,1,3").split(",").map(Number);
const FACTORS = (process.env.STUCK_FACTORS ?? "3,2.5,2").split(",").map(Number);
const DETAIL = process.env.STUCK_DETAIL === "1";
/** The threshold rule's `stuckReadings` (N) the runs are judged with (default: the rule's default). */
const STUCK_N = Number(process.env.STUCK_N ?? DEFAULT_STUCK_READINGS);
/**
 * Tracker variants: `tail` (the default: floor/ceiling runs learn their own bar, the interior bar from the run-length
 * tail at 0.01 false alerts per series-day), `tail-<rate>` (another rate), `tail-z0` / `tail-z1` (the tail's
 * continuation probability at its point estimate / at z = 1 instead of 1.645), `tail-m4` (memory 0.9999), `bounds`
 * (floor/ceiling classes, interior bar 3 × longest), `v1` (neither).
 */
const VARIANTS: Record<string, StuckTrackerOptions> = {
  tail: {},
  "tail-z0": { tailConfidence: 0 },
  "tail-z1": { tailConfidence: 1 },
  "tail-m4": { memory: 0.9999 },
  "tail-0.05": { falseAlertsPerDay: 0.05 },
  "tail-0.0025": { falseAlertsPerDay: 0.0025 },
  bounds: { falseAlertsPerDay: false },
  v1: { boundWarmupMs: false, falseAlertsPerDay: false },
};
const VARIANT_NAMES = (process.env.STUCK_VARIANTS ?? "tail,bounds,v1").split(",");
const CONFIGS = VARIANT_NAMES.flatMap((variant) => {
  if (!VARIANTS[variant]) throw new Error(`unknown variant ${variant}`);
  return FACTORS.map((factor) => ({ variant, factor, options: { ...VARIANTS[variant], factor } }));
});
const EVAL_FROM_MS = 600_000;
const GRACE_MS = 10_000;
const T0 = Date.UTC(2024, 0, 1);

interface Row {
  seed: number;
  injected: boolean;
  variant: string;
  factor: number;
  labels: number;
  caught: number;
  falseAlerts: number;
  deviceDays: number;
}

function run(seed: number, inject: boolean): Row[] {
  const devices = simulatedDevices(DEVICES);
  const simulation = createSimulation({
    seed,
    devices,
    anomalies: inject
      ? { kinds: ["stuck"], rate: 0.0005, durationsSeconds: { stuck: [30, 180] } }
      : { kinds: [], rate: 0 },
  });
  const trackers = CONFIGS.map((config) => new StuckTracker(config.options));
  const alerts: { deviceId: string; metric: string; t: number; verdict: StuckVerdict }[][] = CONFIGS.map(
    () => [],
  );
  const typeOf = new Map(devices.map((d) => [d.deviceId, d.type]));
  const labels: GroundTruthLabel[] = [];
  for (let k = 0; k < DEVICES * SECONDS; k++) {
    const t = Math.round(T0 + (k * 1000) / DEVICES);
    const step = simulation.step(k % DEVICES, t);
    labels.push(...step.labels);
    if (!step.message) continue;
    for (const [metric, value] of Object.entries(step.message.metrics)) {
      trackers.forEach((tracker, i) => {
        const v = tracker.evaluate(step.message!.deviceId, metric, value, t, STUCK_N);
        if (!v) return;
        tracker.commit([v]);
        if (v.raise) alerts[i].push({ deviceId: v.deviceId, metric, t, verdict: v });
      });
    }
  }
  labels.push(...simulation.finish());
  const stuck = labels.filter((l) => l.kind === "stuck" && Date.parse(l.start) >= T0 + EVAL_FROM_MS);
  const within = (l: GroundTruthLabel, a: { deviceId: string; t: number }) =>
    a.deviceId === l.deviceId && a.t >= Date.parse(l.start) && a.t <= Date.parse(l.end) + GRACE_MS;
  return CONFIGS.map(({ variant, factor }, i) => {
    const evaluated = alerts[i].filter((a) => a.t >= T0 + EVAL_FROM_MS);
    const missed = stuck.filter((l) => !evaluated.some((a) => l.metrics.includes(a.metric) && within(l, a)));
    const falseAlerts = evaluated.filter((a) => !labels.some((l) => l.kind === "stuck" && within(l, a)));
    if (DETAIL) {
      const tag = `seed ${seed} ${inject ? "injected" : "clean"} ${variant} ×${factor}`;
      for (const a of falseAlerts) {
        const clock = new Date(a.t).toISOString().slice(11, 19);
        console.log(
          `  ${tag} false: ${typeOf.get(a.deviceId)} ${a.deviceId} ${a.metric}=${a.verdict.value} at ${clock}, run ${a.verdict.runLength} ≥ limit ${a.verdict.limit}${a.verdict.atBound ? " (at bound)" : ""}; tail runs ${a.verdict.next.k.toFixed(1)}, beyond ${a.verdict.next.e.toFixed(1)}, ${(a.verdict.next.d / 3_600_000).toFixed(1)} h, longest ${a.verdict.next.l.toFixed(1)}`,
        );
      }
      const byMetric = new Map<string, number>();
      for (const l of missed) {
        const k = `${typeOf.get(l.deviceId)}:${l.metrics[0]}`;
        byMetric.set(k, (byMetric.get(k) ?? 0) + 1);
      }
      if (missed.length > 0)
        console.log(`  ${tag} missed: ${[...byMetric].map(([k, n]) => `${k} ${n}`).join(", ")}`);
      for (const l of missed) {
        const seconds = (Date.parse(l.end) - Date.parse(l.start)) / 1000;
        console.log(
          `  ${tag} missed label: ${typeOf.get(l.deviceId)} ${l.deviceId} ${l.metrics[0]} at ${l.start.slice(11, 19)}, ${seconds} s`,
        );
      }
    }
    return {
      seed,
      injected: inject,
      variant,
      factor,
      labels: stuck.length,
      caught: stuck.length - missed.length,
      falseAlerts: falseAlerts.length,
      deviceDays: (DEVICES * (SECONDS - EVAL_FROM_MS / 1000)) / 86_400,
    };
  });
}

const rows: Row[] = [];
for (const seed of SEEDS) for (const inject of [true, false]) rows.push(...run(seed, inject));
console.log(
  `stuck rule: ${DEVICES} devices × ${SECONDS} s, seeds ${SEEDS.join(",")}, stuckReadings ${STUCK_N}`,
);
for (const { variant, factor } of CONFIGS) {
  const of = rows.filter((r) => r.variant === variant && r.factor === factor);
  const inj = of.filter((r) => r.injected);
  const clean = of.filter((r) => !r.injected);
  const sum = (xs: Row[], f: (r: Row) => number) => xs.reduce((a, r) => a + f(r), 0);
  console.log(
    `${variant} factor ${factor}: caught ${sum(inj, (r) => r.caught)}/${sum(inj, (r) => r.labels)} (${inj.map((r) => `${r.caught}/${r.labels}`).join(", ")}); false alerts with injection ${sum(inj, (r) => r.falseAlerts)}, without ${sum(clean, (r) => r.falseAlerts)} in ${sum(clean, (r) => r.deviceDays).toFixed(2)} device-days`,
  );
}
const out =
  process.env.STUCK_OUT ??
  path.join(path.dirname(fileURLToPath(import.meta.url)), "results", "stuck-rule.json");
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
