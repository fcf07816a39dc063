/**
 * Per-miss dump of the anomaly evaluation of `bench/detection.ts` (issue 8, `DETECTION_TRACE=1`): every detector
 * call is traced (forest score, grade, anomaly, calibrated, and per metric the normaliser's long-baseline z and
 * local-path deviation), and for every spike, shift and ramp the benchmark counts as missed (spikes: not at delay 0;
 * shifts: not within 60 readings) and every false anomaly alert it prints the reading's device type, metric, value,
 * the two statistics and the forest score/grade. It also prints, per detector key, the healthy readings' largest
 * local deviations (outside every label), which is what sets the local path's threshold.
 *
 * The trace matches a detector call to an archived record by order: per (detector key, device) the k-th call is the
 * k-th archived record (the scorer runs each key's records in sequence order and archives them all).
 */
import type { GroundTruthLabel } from "../packages/core/src/simulator/ground-truth.ts";
import type { AnomalyDetector } from "../packages/core/src/rcf/detector.ts";
import { DetectorPool, type ScoringDetector } from "../packages/core/src/scoring/detector-pool.ts";
import type { ScoredRecord } from "../packages/core/src/scoring/scored-record.ts";

export const TRACE = process.env.DETECTION_TRACE === "1";

interface Row {
  score: number;
  grade: number;
  anomaly: boolean;
  calibrated: boolean;
  z: number[];
  local: number[];
}

/** Calls per detector key and device, in call order. */
export const traces = new Map<string, Row[]>();

/** A `DetectorPool` whose detectors record every call into `traces`. */
export class TracingPool extends DetectorPool {
  private readonly wrapped = new Map<string, ScoringDetector>();
  override async get(shardId: string, key: string, dimensions: number): Promise<ScoringDetector> {
    const inner = await super.get(shardId, key, dimensions);
    let w = this.wrapped.get(key);
    if (!w) {
      const det = inner as unknown as AnomalyDetector;
      w = {
        dimensions: inner.dimensions,
        toCheckpoint: (o?: { compress?: boolean }) => inner.toCheckpoint(o),
        process: (point: ArrayLike<number>, series?: string) => {
          const r = det.process(point, series);
          const n = det.normalizer;
          const id = `${key}\u0000${series ?? ""}`;
          let list = traces.get(id);
          if (!list) traces.set(id, (list = []));
          list.push({
            score: r.score,
            grade: r.grade,
            anomaly: r.anomaly,
            calibrated: r.calibrated,
            z: n ? [...n.lastZ] : [],
            local: n ? [...n.lastLocal] : [],
          });
          return r;
        },
      } as ScoringDetector;
      this.wrapped.set(key, w);
    }
    return w;
  }
}

/** Archived records per detector key and device, in archive order: time, metrics, flagged. */
export class TraceArchive {
  readonly records = new Map<string, { t: number; metrics: Record<string, number>; flagged: boolean }[]>();
  add(r: Pick<ScoredRecord, "deviceId" | "ts" | "metrics" | "detectorKey" | "anomaly" | "rules">): void {
    const id = `${r.detectorKey}\u0000${r.deviceId}`;
    let list = this.records.get(id);
    if (!list) this.records.set(id, (list = []));
    list.push({ t: Date.parse(r.ts), metrics: r.metrics, flagged: r.anomaly || r.rules.length > 0 });
  }
}

const f = (x: number, d = 2) => x.toFixed(d);

/** Prints the dump (see the module comment). */
export function printTrace(opts: {
  archive: TraceArchive;
  labels: GroundTruthLabel[];
  missed: { label: GroundTruthLabel; delay: number | null }[];
  falseAlerts: { deviceId: string; t: number }[];
  evalFrom: number;
  slackMs: number;
  graceMs: number;
}): void {
  const { archive, labels } = opts;
  // Join the archive and the trace per (key, device).
  const joined = new Map<
    string,
    { key: string; t: number[]; rows: Row[]; names: string[]; values: number[][] }
  >();
  const byDevice = new Map<string, string[]>();
  for (const [id, recs] of archive.records) {
    const rows = traces.get(id) ?? [];
    const [key, deviceId] = id.split("\u0000");
    const names = key.split("|")[1].split(",");
    if (rows.length !== recs.length)
      console.log(`trace: ${id} has ${rows.length} calls, ${recs.length} records`);
    joined.set(id, {
      key,
      t: recs.map((r) => r.t),
      rows,
      names,
      values: recs.map((r) => names.map((m) => r.metrics[m])),
    });
    byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), id]);
  }
  const describe = (id: string, k: number, metric: string) => {
    const j = joined.get(id)!;
    const i = j.names.indexOf(metric);
    const r = j.rows[k];
    if (!r) return "no trace";
    return `${metric}=${j.values[k][i]} z ${f(r.z[i] ?? 0)} local ${f(r.local[i] ?? 0)} maxlocal ${f(Math.max(...r.local.map(Math.abs)))} score ${f(r.score)} grade ${f(r.grade)}${r.anomaly ? " ANOM" : ""}${r.calibrated ? "" : " uncal"}`;
  };
  console.log("--- trace: misses (spike not at 0, shift not within 60, ramp not caught)");
  for (const { label, delay } of opts.missed) {
    const start = Date.parse(label.start) - opts.slackMs;
    const end = Date.parse(label.end) + opts.graceMs;
    const mag = label.magnitude ?? 0;
    console.log(
      `${label.kind} ${label.deviceType} ${label.deviceId} ${label.metric} ${label.direction ?? ""} mag ${f(mag, 3)} (σ ${f(mag / (label.kind === "spike" ? 6 : 4), 3)}) ${label.messages} msgs delay ${delay ?? "-"}`,
    );
    for (const id of byDevice.get(label.deviceId) ?? []) {
      const j = joined.get(id)!;
      const metric = label.metrics.find((m) => j.names.includes(m));
      if (!metric) continue;
      const ks: number[] = [];
      for (let k = 0; k < j.t.length; k++) if (j.t[k] >= start && j.t[k] <= end) ks.push(k);
      if (ks.length === 0) continue;
      const before = ks[0] - 1;
      if (before >= 0) console.log(`   prev ${describe(id, before, metric)}`);
      // Spikes: the reading; shifts/ramps: first 3, the max-|local| one, the max-|z| one, the last.
      const pick = new Set<number>(label.kind === "spike" ? ks : ks.slice(0, 3));
      if (label.kind !== "spike") {
        const i = j.names.indexOf(metric);
        let bl = ks[0];
        let bz = ks[0];
        for (const k of ks) {
          if (Math.abs(j.rows[k]?.local[i] ?? 0) > Math.abs(j.rows[bl]?.local[i] ?? 0)) bl = k;
          if (Math.abs(j.rows[k]?.z[i] ?? 0) > Math.abs(j.rows[bz]?.z[i] ?? 0)) bz = k;
        }
        pick
          .add(bl)
          .add(bz)
          .add(ks[ks.length - 1]);
      }
      for (const k of [...pick].sort((a, b) => a - b))
        console.log(`   +${k - ks[0]} ${describe(id, k, metric)}`);
    }
  }
  console.log("--- trace: false anomaly alerts");
  for (const a of opts.falseAlerts) {
    for (const id of byDevice.get(a.deviceId) ?? []) {
      const j = joined.get(id)!;
      const k = j.t.indexOf(a.t);
      if (k < 0) continue;
      const r = j.rows[k];
      let mi = 0;
      for (let i = 0; i < j.names.length; i++) if (Math.abs(r.local[i]) > Math.abs(r.local[mi])) mi = i;
      console.log(`false ${id.replace("\u0000", " ")} ${describe(id, k, j.names[mi])}`);
    }
  }
  // Healthy readings: largest |local| per key (outside every label ± grace), top 5 and exceedance counts.
  console.log("--- trace: healthy readings' local deviation per detector key");
  const spans = new Map<string, [number, number][]>();
  for (const l of labels) {
    const s = spans.get(l.deviceId) ?? [];
    s.push([Date.parse(l.start) - opts.slackMs, Date.parse(l.end) + 60_000]);
    spans.set(l.deviceId, s);
  }
  const perKey = new Map<string, { n: number; top: { v: number; what: string }[]; over: number[] }>();
  const bars = [4, 4.5, 5, 5.5, 6, 6.5, 7, 8];
  for (const [id, j] of joined) {
    const deviceId = id.split("\u0000")[1];
    const sp = spans.get(deviceId) ?? [];
    const acc = perKey.get(j.key) ?? { n: 0, top: [], over: bars.map(() => 0) };
    for (let k = 0; k < j.t.length; k++) {
      const t = j.t[k];
      if (t < opts.evalFrom || sp.some(([s, e]) => t >= s && t <= e)) continue;
      const r = j.rows[k];
      if (!r || !r.calibrated) continue;
      acc.n++;
      let mi = 0;
      for (let i = 0; i < j.names.length; i++) if (Math.abs(r.local[i]) > Math.abs(r.local[mi])) mi = i;
      const v = Math.abs(r.local[mi] ?? 0);
      bars.forEach((b, bi) => {
        if (v >= b) acc.over[bi]++;
      });
      if (acc.top.length < 5 || v > acc.top[acc.top.length - 1].v) {
        acc.top.push({ v, what: `${deviceId} ${describe(id, k, j.names[mi])}` });
        acc.top.sort((a, b) => b.v - a.v);
        acc.top.length = Math.min(acc.top.length, 5);
      }
    }
    perKey.set(j.key, acc);
  }
  for (const [key, acc] of perKey) {
    console.log(`${key}: ${acc.n} readings; ≥ ${bars.map((b, i) => `${b}: ${acc.over[i]}`).join(", ")}`);
    for (const t of acc.top) console.log(`   ${f(t.v)} ${t.what}`);
  }
}
