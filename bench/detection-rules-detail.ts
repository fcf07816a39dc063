/**
 * Per-label detail of the stuck and dropout evaluation of `bench/detection.ts` (issue 8): for every stuck run and
 * dropout the benchmark counts as missed (or, for dropouts, raised more than once), WHY — replayed with the rule
 * code itself over the readings the scorer archived, so the reason is the rule's, not a guess.
 *
 * - stuck: a fresh `StuckTracker` (the scorer's defaults) replayed over the device's readings of the metric up to
 *   the label's end: the longest run inside the label, the bar (`limit`) it had to reach, the completed runs
 *   the series had shown (warm-up), and the reason: `before-warmup`, `too-few-readings` (the metric's readings in
 *   the run are fewer than `stuckReadings`), `learned-bar` (the series' normal repeats put the bar above the run),
 *   `run-broken-inside-label`, or `rule-fired-in-replay` (the replay fires but
 *   the scorer did not: a wiring bug).
 * - dropout: the gap between the device's last reading before and first after, the whole windows inside it, the
 *   quiet time at the last window end inside it, and every silence alert (device or `silence:site`) near it.
 *
 * Enabled by `DETECTION_DETAIL=1` (keeps each device's metric values in memory: ≈ 40 bytes per reading).
 */
import type { GroundTruthLabel } from "../packages/core/src/simulator/ground-truth.ts";
import type { ScoredRecord } from "../packages/core/src/scoring/scored-record.ts";
import { DEFAULT_STUCK_READINGS, StuckTracker } from "../packages/core/src/scoring/stuck-tracker.ts";

export const DETAIL = process.env.DETECTION_DETAIL === "1";

/** Per device, per metric: event times and values, in the order the scorer archived them. */
export class SeriesKeeper {
  private readonly series = new Map<string, Map<string, { t: number[]; v: number[] }>>();
  private readonly siteOf = new Map<string, string>();

  add(r: Pick<ScoredRecord, "deviceId" | "ts" | "metrics" | "site">): void {
    const t = Date.parse(r.ts);
    let device = this.series.get(r.deviceId);
    if (!device) this.series.set(r.deviceId, (device = new Map()));
    if (r.site !== undefined) this.siteOf.set(r.deviceId, r.site);
    for (const [metric, value] of Object.entries(r.metrics)) {
      let s = device.get(metric);
      if (!s) device.set(metric, (s = { t: [], v: [] }));
      s.t.push(t);
      s.v.push(value);
    }
  }

  of(deviceId: string, metric: string): { t: number[]; v: number[] } {
    return this.series.get(deviceId)?.get(metric) ?? { t: [], v: [] };
  }

  site(deviceId: string): string | undefined {
    return this.siteOf.get(deviceId);
  }
}

export interface StuckMiss {
  deviceId: string;
  deviceType: string;
  metric: string;
  durationS: number;
  /** Readings of the metric inside the label. */
  readings: number;
  longestRun: number;
  limit: number;
  completedRuns: number;
  reason: string;
}

export function explainStuck(
  label: GroundTruthLabel,
  keeper: SeriesKeeper,
  graceMs: number,
  stuckReadings = DEFAULT_STUCK_READINGS,
): StuckMiss[] {
  const start = Date.parse(label.start);
  const labelEnd = Date.parse(label.end);
  const end = labelEnd + graceMs;
  const out: StuckMiss[] = [];
  for (const metric of label.metrics) {
    const { t, v } = keeper.of(label.deviceId, metric);
    const tracker = new StuckTracker();
    let readings = 0;
    let longestRun = 0;
    let limit = 0;
    let completedRuns = 0;
    let fired = false;
    for (let i = 0; i < t.length && t[i] <= end; i++) {
      const verdict = tracker.evaluate(label.deviceId, metric, v[i], t[i], stuckReadings);
      if (!verdict) continue;
      tracker.commit([verdict]);
      if (t[i] < start) continue;
      if (t[i] <= labelEnd) readings += 1;
      if (verdict.runLength > longestRun) {
        longestRun = verdict.runLength;
        limit = verdict.limit;
        completedRuns = (verdict.next as { c: number }).c;
      }
      if (verdict.stuck) fired = true;
    }
    const reason = fired
      ? "rule-fired-in-replay"
      : completedRuns < 50 && longestRun >= limit
        ? "before-warmup"
        : longestRun < readings
          ? "run-broken-inside-label"
          : readings < stuckReadings
            ? "too-few-readings"
            : "learned-bar";
    out.push({
      deviceId: label.deviceId,
      deviceType: label.deviceType,
      metric,
      durationS: Math.round((Date.parse(label.end) - start) / 1000),
      readings,
      longestRun,
      limit,
      completedRuns,
      reason,
    });
  }
  return out;
}

export interface DropoutDetail {
  deviceId: string;
  deviceType: string;
  durationS: number;
  /** From the last reading before to the first after. */
  gapS: number;
  /** Whole windows inside the gap. */
  wholeQuietWindows: number;
  /** Quiet time (s) at the last window end inside the gap. */
  quietAtLastWindowEndS: number;
  deviceSilences: number;
  siteSilences: number;
}

/**
 * A dropout's silence incident may come up to `silenceSpanMs` after the device returns — but not once the same device
 * has started its next dropout: an incident after that start belongs to the next outage (seed 11 has a device with two
 * outages 130 s apart, each raising its own incident, which the old span counted twice for the first).
 */
export function dropoutSpanEnd(
  l: GroundTruthLabel,
  all: readonly GroundTruthLabel[],
  spanMs: number,
): number {
  let end = Date.parse(l.end) + spanMs;
  const start = Date.parse(l.start);
  for (const o of all) {
    if (o === l || o.kind !== "dropout" || o.deviceId !== l.deviceId) continue;
    const s = Date.parse(o.start);
    if (s > start && s < end) end = s;
  }
  return end;
}

export function explainDropout(
  label: GroundTruthLabel,
  keeper: SeriesKeeper,
  times: readonly number[],
  executions: readonly { deviceId: string; t: number; rule: string; devices?: string[] }[],
  windowMs: number,
  afterMs: number,
  labels: readonly GroundTruthLabel[] = [label],
): DropoutDetail {
  const start = Date.parse(label.start);
  const end = Date.parse(label.end);
  let before = -Infinity;
  let after = Infinity;
  for (const t of times) {
    if (t < start && t > before) before = t;
    if (t > end && t < after) after = t;
  }
  const firstBoundary = Math.ceil(before / windowMs) * windowMs;
  const lastBoundary = Math.floor(after / windowMs) * windowMs;
  const wholeQuietWindows = Math.max(0, (lastBoundary - firstBoundary) / windowMs);
  const site = keeper.site(label.deviceId);
  const spanEnd = dropoutSpanEnd(label, labels, afterMs);
  const near = (e: { t: number }) => e.t >= start && e.t <= spanEnd;
  return {
    deviceId: label.deviceId,
    deviceType: label.deviceType,
    durationS: Math.round((end - start) / 1000),
    gapS: Math.round((after - before) / 1000),
    wholeQuietWindows,
    quietAtLastWindowEndS: Math.round((lastBoundary - before) / 1000),
    deviceSilences: executions.filter((e) => e.deviceId === label.deviceId && e.rule === "silence" && near(e))
      .length,
    siteSilences: executions.filter(
      (e) =>
        site !== undefined &&
        e.deviceId === `site:${site}` &&
        (e.devices ?? []).includes(label.deviceId) &&
        near(e),
    ).length,
  };
}

/** Prints the detail and returns it for the JSON summary. */
export function rulesDetail(input: {
  labels: readonly GroundTruthLabel[];
  keeper: SeriesKeeper;
  times: ReadonlyMap<string, number[]>;
  flagged: ReadonlyMap<string, { t: number; rules: string[] }[]>;
  executions: readonly { deviceId: string; t: number; rule: string; devices?: string[] }[];
  evalFrom: number;
  graceMs: number;
  windowMs: number;
  silenceSpanMs: number;
}): { stuckMissed: StuckMiss[]; dropouts: DropoutDetail[]; unexplainedSilences: unknown[] } {
  const stuckMissed: StuckMiss[] = [];
  const dropouts: DropoutDetail[] = [];
  for (const l of input.labels) {
    if (Date.parse(l.start) < input.evalFrom) continue;
    if (l.kind === "stuck") {
      const start = Date.parse(l.start);
      const end = Date.parse(l.end) + input.graceMs;
      const hit = (input.flagged.get(l.deviceId) ?? []).some((a) => a.t >= start && a.t <= end);
      if (!hit) stuckMissed.push(...explainStuck(l, input.keeper, input.graceMs));
    } else if (
      l.kind === "dropout" &&
      !(l.truncated === true && Date.parse(l.end) - Date.parse(l.start) < 3 * input.windowMs)
    ) {
      const d = explainDropout(
        l,
        input.keeper,
        input.times.get(l.deviceId) ?? [],
        input.executions,
        input.windowMs,
        input.silenceSpanMs,
        input.labels,
      );
      if (d.deviceSilences + d.siteSilences !== 1) dropouts.push(d);
    }
  }
  const count = (xs: { reason: string }[]) => {
    const c: Record<string, number> = {};
    for (const x of xs) c[x.reason] = (c[x.reason] ?? 0) + 1;
    return Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  };
  console.log(`stuck missed, per metric of the label: ${count(stuckMissed) || "none"}`);
  for (const m of stuckMissed) {
    console.log(
      `  ${m.deviceType.padEnd(9)} ${m.deviceId.slice(0, 16).padEnd(16)} ${m.metric.padEnd(15)} ${String(m.durationS).padStart(4)} s, ${String(m.readings).padStart(3)} readings, longest run ${String(m.longestRun).padStart(3)} < bar ${String(m.limit).padStart(3)}, runs seen ${m.completedRuns}: ${m.reason}`,
    );
  }
  // Silence alerts that no dropout explains (false silence alerts), with the device's readings around them.
  const unexplained: {
    deviceId: string;
    devices?: string[];
    at: string;
    rule: string;
    lastReadingBeforeS: number | null;
  }[] = [];
  for (const e of input.executions) {
    if (!e.rule.startsWith("silence") || e.t < input.evalFrom) continue;
    const subjects = e.deviceId.startsWith("site:") ? (e.devices ?? []) : [e.deviceId];
    const explained = input.labels.some(
      (l) =>
        l.kind === "dropout" &&
        subjects.includes(l.deviceId) &&
        e.t >= Date.parse(l.start) &&
        e.t <= Date.parse(l.end) + input.silenceSpanMs,
    );
    if (explained) continue;
    let last = -Infinity;
    for (const t of input.times.get(e.deviceId) ?? []) if (t <= e.t && t > last) last = t;
    unexplained.push({
      deviceId: e.deviceId,
      ...(e.devices ? { devices: e.devices } : {}),
      at: new Date(e.t).toISOString(),
      rule: e.rule,
      lastReadingBeforeS: Number.isFinite(last) ? Math.round((e.t - last) / 1000) : null,
    });
  }
  console.log(`silence alerts no dropout explains: ${unexplained.length}`);
  for (const u of unexplained)
    console.log(
      `  ${u.rule} ${u.deviceId}${u.devices ? ` (${u.devices.join(", ")})` : ""} at ${u.at}, last reading ${u.lastReadingBeforeS} s before`,
    );
  console.log(`dropouts without exactly one silence incident (device or site): ${dropouts.length}`);
  for (const d of dropouts) {
    for (const e of input.executions) {
      const subjects = e.deviceId.startsWith("site:") ? (e.devices ?? []) : [e.deviceId];
      if (e.rule.startsWith("silence") && subjects.includes(d.deviceId))
        console.log(
          `    ${e.rule} ${e.deviceId} at ${new Date(e.t).toISOString()} ${e.devices ? e.devices.join(",") : ""}`,
        );
    }
    // The device's labels and its reporting gaps (> 5 s) from a minute before the first to ten minutes after.
    const mine = input.labels.filter((l) => l.deviceId === d.deviceId);
    for (const l of mine)
      console.log(`    label ${l.kind} ${l.start} → ${l.end}${l.truncated ? " (cut short)" : ""}`);
    const times = [...(input.times.get(d.deviceId) ?? [])].sort((a, b) => a - b);
    const from = Math.min(...mine.map((l) => Date.parse(l.start))) - 60_000;
    const to = Math.max(...mine.map((l) => Date.parse(l.end))) + 600_000;
    for (let i = 1; i < times.length; i++)
      if (times[i] >= from && times[i - 1] <= to && times[i] - times[i - 1] > 5_000)
        console.log(
          `    gap ${new Date(times[i - 1]).toISOString()} → ${new Date(times[i]).toISOString()} (${Math.round((times[i] - times[i - 1]) / 1000)} s)`,
        );
    console.log(
      `  ${d.deviceType.padEnd(9)} ${d.deviceId.slice(0, 16).padEnd(16)} ${String(d.durationS).padStart(4)} s, gap ${d.gapS} s, whole quiet windows ${d.wholeQuietWindows}, quiet at last window end ${d.quietAtLastWindowEndS} s; silence alerts: device ${d.deviceSilences}, site ${d.siteSilences}`,
    );
  }
  return { stuckMissed, dropouts, unexplainedSilences: unexplained };
}
