import { describe, expect, it } from "vitest";
import { emptyAggregate, observe, type MetricAggregate } from "../../src/window/aggregate.ts";
import { mergeParts, type AggregatePart } from "../../src/window/stored-part.ts";
import {
  LAMBDA_STATE_LIMIT_BYTES,
  WindowAccumulator,
  WindowStateFormatError,
  stateSizeBytes,
} from "../../src/window/window-accumulator.ts";

const W0 = Date.UTC(2024, 0, 1, 12, 0, 0);

interface Rec {
  seq: string;
  deviceId: string;
  metric: string;
  value: number;
  eventMs: number;
}

/** Deterministic pseudo-random records: `devices` devices, one metric each, `perDevice` readings each. */
function records(devices: number, perDevice: number, seed = 7): Rec[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: Rec[] = [];
  let seq = 10n ** 20n;
  for (let r = 0; r < perDevice; r++) {
    for (let d = 0; d < devices; d++) {
      seq += 1n + BigInt(Math.floor(rnd() * 3));
      out.push({
        seq: seq.toString(),
        deviceId: `station-${d.toString(36).padStart(4, "0")}`,
        metric: d % 3 === 0 ? "temp" : d % 3 === 1 ? "hum" : "vib",
        value: Math.round((20 + rnd() * 10) * 1000) / 1000,
        eventMs: W0 + r * 1000 + Math.floor(rnd() * 900),
      });
    }
  }
  return out;
}

/** Runs records through accumulators exactly as the scorer does, in batches of `batchSize`, state serialized between. */
function runWindow(recs: Rec[], batchSize: number, budget: number) {
  const parts: AggregatePart[] = [];
  let state: Record<string, string> = {};
  let maxStateBytes = 0;
  const flush = (acc: WindowAccumulator) => {
    const seg = acc.drain();
    for (const s of seg.series) {
      parts.push({
        deviceId: s.deviceId,
        metric: s.metric,
        windowStartMs: W0,
        windowEndMs: W0 + 60_000,
        shardId: "shardId-000000000000",
        segment: seg.firstSequenceNumber,
        agg: s.agg,
      });
    }
  };
  for (let i = 0; i < recs.length; i += batchSize) {
    const acc = WindowAccumulator.fromState(state, W0, budget);
    for (const r of recs.slice(i, i + batchSize)) {
      if (acc.wouldExceed(r.deviceId, [r.metric])) flush(acc);
      acc.beginRecord(r.seq);
      acc.add(r.deviceId, r.metric, {
        value: r.value,
        eventMs: r.eventMs,
        score: r.value / 10,
        anomaly: r.value > 29.5,
      });
    }
    state = acc.toState();
    const size = stateSizeBytes(state);
    expect(size).toBeLessThanOrEqual(acc.boundBytes);
    maxStateBytes = Math.max(maxStateBytes, size);
  }
  const last = WindowAccumulator.fromState(state, W0, budget);
  if (!last.isEmpty) flush(last);
  return { parts, maxStateBytes };
}

function unbounded(recs: Rec[]): Map<string, MetricAggregate> {
  const map = new Map<string, MetricAggregate>();
  for (const r of recs) {
    const key = `${r.deviceId}|${r.metric}`;
    let agg = map.get(key);
    if (!agg) map.set(key, (agg = emptyAggregate()));
    observe(agg, { value: r.value, eventMs: r.eventMs, score: r.value / 10, anomaly: r.value > 29.5 });
  }
  return map;
}

describe("window accumulator (Lambda tumbling-window state)", () => {
  it("round-trips through the state map exactly", () => {
    const acc = new WindowAccumulator(W0);
    acc.beginRecord("49590338271490256608559692538361571095921575989136588898");
    acc.add("dev|1;x,y%", "temp", {
      value: 0.1 + 0.2,
      eventMs: W0 + 5,
      score: 1.2345678901234567,
      anomaly: true,
    });
    acc.beginRecord("49590338271490256608559692538361571095921575989136588899");
    acc.add("dev|1;x,y%", "temp", { value: -1e-300, eventMs: W0 - 90_000 });
    acc.add("dev|1;x,y%", "hum", { value: 55, eventMs: W0 + 7 });
    const state = acc.toState();
    expect(Object.values(state).every((v) => typeof v === "string")).toBe(true);
    const back = WindowAccumulator.fromState(JSON.parse(JSON.stringify(state)), W0);
    expect(back.segment()).toEqual(acc.segment());
    expect(back.records).toBe(2);
    expect(back.segment().firstSequenceNumber).toBe(
      "49590338271490256608559692538361571095921575989136588898",
    );
  });

  it("measures a state's size as Lambda does (its JSON in UTF-8), plain text or not", () => {
    const acc = new WindowAccumulator(W0);
    acc.beginRecord("49590338271490256608559692538361571095921575989136588898");
    acc.add('dév|1;x,"y%', "temp", { value: -0.1, eventMs: W0 });
    const json = (s: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(s), "utf8");
    const cases: Record<string, unknown>[] = [
      {},
      acc.toState(),
      { ...acc.toState(), r: "rd_abc 123;rd_def 124" },
      { a: 'with "quote"' },
      { a: "back\\slash", b: "tab\t", c: "é€😀" },
      { lone: "\ud800", "k\u0001": "v" },
      { a: "x", gone: undefined },
    ];
    for (const state of cases) expect(stateSizeBytes(state as Record<string, string>)).toBe(json(state));
  });

  it("starts fresh on empty state or another window's state, and refuses unknown versions", () => {
    const acc = new WindowAccumulator(W0);
    acc.beginRecord("1");
    acc.add("d", "m", { value: 1, eventMs: W0 });
    expect(WindowAccumulator.fromState({}, W0).isEmpty).toBe(true);
    expect(WindowAccumulator.fromState(undefined, W0).isEmpty).toBe(true);
    expect(WindowAccumulator.fromState(acc.toState(), W0 + 60_000).isEmpty).toBe(true);
    expect(() => WindowAccumulator.fromState({ ...acc.toState(), v: "99" }, W0)).toThrow(
      WindowStateFormatError,
    );
  });

  it("keeps 20,000 devices in one window under the 1 MB cap by flushing parts that merge to the unbounded result", () => {
    const recs = records(20_000, 3);
    const { parts, maxStateBytes } = runWindow(recs, 500, 900 * 1024);
    expect(maxStateBytes).toBeLessThanOrEqual(LAMBDA_STATE_LIMIT_BYTES);
    const segments = new Set(parts.map((p) => p.segment));
    expect(segments.size).toBeGreaterThan(1); // it really had to flush
    const views = mergeParts(parts);
    const expected = unbounded(recs);
    expect(views).toHaveLength(expected.size);
    // One matcher call per mismatching view (not eight per view: 60,000 views made this test take seconds);
    // `close` is toBeCloseTo(…, 9).
    const close = (a: number, b: number) => Math.abs(a - b) < 5e-10;
    const mismatches = views.filter((view) => {
      const want = expected.get(`${view.deviceId}|${view.metric}`)!;
      return !(
        view.count === want.count &&
        view.min === want.min &&
        view.max === want.max &&
        view.anomalies === want.anomalies &&
        view.maxScore === want.maxScore &&
        close(view.sum, want.sum) &&
        close(view.avg, want.sum / want.count) &&
        view.firstEventAt === new Date(want.firstEventMs).toISOString()
      );
    });
    expect(mismatches).toEqual([]);
  });

  it("cuts segments at the same records however the batches are split (retries and bisection rewrite the same parts)", () => {
    const recs = records(3_000, 2, 11);
    const budget = 64 * 1024;
    const a = runWindow(recs, 1_000, budget);
    const b = runWindow(recs, 37, budget);
    const c = runWindow(recs, 1, budget);
    const key = (p: AggregatePart) => `${p.deviceId}|${p.metric}|${p.segment}`;
    const norm = (ps: AggregatePart[]) => new Map(ps.map((p) => [key(p), p.agg]));
    expect(norm(b.parts)).toEqual(norm(a.parts));
    expect(norm(c.parts)).toEqual(norm(a.parts));
    expect(a.maxStateBytes).toBeLessThanOrEqual(budget);
  });
});
