import { describe, expect, it } from "vitest";
import {
  AnomalyDetector,
  CHECKPOINT_VERSION,
  CheckpointFormatError,
  CheckpointVersionError,
  InvalidPointError,
  Thresholder,
} from "../../src/rcf/index.ts";
import { ByteReader, ByteWriter } from "../../src/rcf/binary.ts";
import { gaussian, lcg } from "./helpers.ts";

function stream(d: number, seed: number, n: number): number[][] {
  const g = gaussian(lcg(seed));
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: d }, (_, k) => 5 * Math.sin(i / 15 + k) + g()),
  );
}

describe("AnomalyDetector", () => {
  it("flags a spike with a grade in (0,1] and names the culprit metric and direction", () => {
    const det = new AnomalyDetector(3, { forest: { seed: 1 } });
    const points = stream(3, 2, 1500);
    const flagged: number[] = [];
    points.forEach((p, i) => {
      const r = det.process(p);
      expect(r.grade).toBeGreaterThanOrEqual(0);
      expect(r.grade).toBeLessThanOrEqual(1);
      expect(r.anomaly).toBe(r.grade > 0);
      if (r.anomaly) flagged.push(i);
    });
    expect(flagged.length).toBeLessThan(10);
    const spike = [...points[points.length - 1]];
    spike[1] -= 30;
    const r = det.process(spike);
    expect(r.anomaly).toBe(true);
    expect(r.grade).toBeGreaterThan(0);
    expect(r.attribution[0]).toMatchObject({ index: 1, direction: "LOW" });
    const total = r.attribution.reduce((a, b) => a + b.contribution, 0);
    expect(total).toBeCloseTo(r.score, 9);
    expect(r.attribution.map((a) => a.contribution)).toEqual(
      [...r.attribution.map((a) => a.contribution)].sort((a, b) => b - a),
    );
  });

  it("scores 0 and never flags before the forest is ready", () => {
    const det = new AnomalyDetector(1);
    for (let i = 0; i < 256; i++) {
      const r = det.process([i % 7 === 0 ? 1000 : 1]);
      expect(r.score).toBe(0);
      expect(r.anomaly).toBe(false);
    }
  });

  it("static bounds flag a point at once with grade 1, culprit first", () => {
    const det = new AnomalyDetector(2, { thresholder: { bounds: [null, { max: 50 }] } });
    const r = det.process([1, 60]);
    expect(r).toMatchObject({ grade: 1, anomaly: true });
    expect(r.attribution[0]).toMatchObject({ index: 1, direction: "HIGH" });
  });

  it("rejects bad points with InvalidPointError and leaves the detector unchanged", () => {
    const det = new AnomalyDetector(2, { forest: { numberOfTrees: 20 } });
    for (const p of stream(2, 3, 400)) det.process(p);
    const before = det.toCheckpoint();
    for (const bad of [[NaN, 0], [0, Infinity], [-Infinity, 1], [1], [1, 2, 3]]) {
      expect(() => det.process(bad)).toThrow(InvalidPointError);
    }
    expect(det.toCheckpoint()).toEqual(before);
  });

  for (const compress of [false, true]) {
    it(`restores from a ${compress ? "compressed" : "plain"} checkpoint and then scores exactly like the original`, () => {
      const det = new AnomalyDetector(3, { forest: { seed: 7, shingleSize: 2 } });
      const points = stream(3, 4, 2400);
      for (const p of points.slice(0, 1600)) det.process(p);
      const bytes = det.toCheckpoint({ compress });
      const restored = AnomalyDetector.fromCheckpoint(bytes);
      expect(restored.dimensions).toBe(3);
      for (const p of points.slice(1600)) {
        const spiked = p.map((v, k) => (k === 0 && p[1] > 5 ? v + 9 : v));
        expect(restored.process(spiked)).toEqual(det.process(spiked));
      }
      expect(restored.toCheckpoint()).toEqual(det.toCheckpoint());
    });
  }

  it("keeps a kda checkpoint with 5 metrics under 1 MB", () => {
    const det = new AnomalyDetector(5, { forest: { timeDecay: 500 } });
    for (const p of stream(5, 9, 4000)) det.process(p);
    const plain = det.toCheckpoint();
    const compressed = det.toCheckpoint({ compress: true });
    expect(plain.length).toBeLessThanOrEqual(1024 * 1024);
    expect(compressed.length).toBeLessThan(plain.length);
  });

  it("still reads a format-1 checkpoint (no tail state): same forest, tail refitted from new scores", () => {
    const det = new AnomalyDetector(2, { forest: { seed: 4 }, normalize: false });
    const points = stream(2, 6, 1400);
    for (const p of points.slice(0, 900)) det.process(p);
    // Rewrite the current (plain) checkpoint as format 1: header without the tail options, thresholder
    // state without the tail part.
    const bytes = det.toCheckpoint();
    const body = bytes.subarray(8);
    const r = new ByteReader(body);
    const header = JSON.parse(new TextDecoder().decode(r.bytes(r.varint()))) as {
      thresholder: Record<string, unknown>;
    };
    const forestStart = r.offset;
    const state = det.thresholder.state();
    const stateBytes = 8 * state.length + (state.length < 128 ? 1 : state.length < 16384 ? 2 : 3);
    // Format 4 ends with the named-series section (a single varint 0 here: no named series) and the raw-score
    // tail (empty with the fast path off: two varints 0 and four f64).
    const tailBytes = new ByteWriter();
    det.thresholder.writeRawTail(tailBytes);
    // Format 5 adds one byte (no normaliser section) at the very end.
    const forestPart = body.subarray(
      forestStart,
      body.length - stateBytes - 1 - tailBytes.finish().length - 1,
    );
    for (const key of ["tailRisk", "tailWindow", "tailQuantile", "tailRefit"]) delete header.thresholder[key];
    const legacyState = state.subarray(0, 7 + det.thresholder.options.smoothing);
    const w = new ByteWriter();
    for (const b of [0x44, 0x57, 0x52, 0x43]) w.u8(b);
    w.u16(1);
    w.u16(0);
    const h = new TextEncoder().encode(JSON.stringify(header));
    w.varint(h.length);
    w.bytes(h);
    w.bytes(forestPart);
    w.varint(legacyState.length);
    for (const v of legacyState) w.f64(v);
    const restored = AnomalyDetector.fromCheckpoint(w.finish());
    expect(restored.thresholder.options.tailRisk).toBe(det.thresholder.options.tailRisk);
    const alerts: number[] = [];
    points.slice(900).forEach((p, i) => {
      const spiked = i % 100 === 60 ? [p[0] + 40, p[1]] : p;
      const a = det.process(spiked);
      const b = restored.process(spiked);
      expect(b.score).toBe(a.score);
      expect(b.attribution).toEqual(a.attribution);
      if (b.anomaly) alerts.push(i);
    });
    // No score-based alert before the tail window holds 20 scores again, then the spikes are found.
    expect(alerts.length).toBeGreaterThan(0);
    expect(Math.min(...alerts)).toBeGreaterThanOrEqual(20);
  });

  it("refuses newer versions, foreign bytes and truncated checkpoints with clear errors", () => {
    const det = new AnomalyDetector(1, { forest: { numberOfTrees: 5 } });
    for (let i = 0; i < 300; i++) det.process([Math.sin(i)]);
    const bytes = det.toCheckpoint();
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint16(4, CHECKPOINT_VERSION + 1, true);
    expect(() => AnomalyDetector.fromCheckpoint(newer)).toThrow(CheckpointVersionError);
    expect(() => AnomalyDetector.fromCheckpoint(newer)).toThrow(
      new RegExp(`version ${CHECKPOINT_VERSION + 1} is not supported`),
    );
    expect(() => AnomalyDetector.fromCheckpoint(new TextEncoder().encode("hello world!"))).toThrow(
      CheckpointFormatError,
    );
    expect(() => AnomalyDetector.fromCheckpoint(bytes.slice(0, bytes.length - 20))).toThrow(
      CheckpointFormatError,
    );
    const compressed = det.toCheckpoint({ compress: true });
    const broken = compressed.slice();
    broken.fill(0xff, 8, 40);
    expect(() => AnomalyDetector.fromCheckpoint(broken)).toThrow(CheckpointFormatError);
  });
});

describe("Thresholder", () => {
  it("adapts to the score level: the same score is anomalous in a quiet stream and not in a noisy one", () => {
    const quiet = new Thresholder({ warmup: 50, suppression: 0 });
    const noisy = new Thresholder({ warmup: 50, suppression: 0 });
    const rand = lcg(3);
    for (let i = 0; i < 500; i++) {
      quiet.decide(1 + 0.05 * rand(), [0]);
      noisy.decide(1 + 1.5 * rand(), [0]);
    }
    expect(quiet.decide(2.5, [0]).anomaly).toBe(true);
    expect(noisy.decide(2.5, [0]).anomaly).toBe(false);
  });

  it("marks one new episode per `suppression` points but still grades every anomalous point, and grades grow with the excess", () => {
    const t = new Thresholder({ warmup: 20, suppression: 5, smoothing: 1 });
    for (let i = 0; i < 200; i++) t.decide(1 + 0.01 * (i % 3), [0]);
    const first = t.decide(3, [0]);
    expect(first.anomaly).toBe(true);
    expect(first.newEpisode).toBe(true);
    for (let i = 0; i < 5; i++) {
      const during = t.decide(4, [0]);
      // Never hidden: anomalous with a grade, but part of the episode already open.
      expect(during.anomaly).toBe(true);
      expect(during.grade).toBeGreaterThan(0);
      expect(during.newEpisode).toBe(false);
    }
    const again = t.decide(6, [0]);
    expect(again.newEpisode).toBe(true);
    const fresh = new Thresholder({ warmup: 20, smoothing: 1 });
    const fresh2 = new Thresholder({ warmup: 20, smoothing: 1 });
    for (let i = 0; i < 200; i++) {
      fresh.decide(1 + 0.01 * (i % 3), [0]);
      fresh2.decide(1 + 0.01 * (i % 3), [0]);
    }
    expect(fresh2.decide(5, [0]).grade).toBeGreaterThan(fresh.decide(2, [0]).grade);
  });

  it("does not alert on every burst of a heavy-tailed score stream, but still on a far more extreme score", () => {
    const rand = lcg(21);
    // Pareto(α = 1.5) bursts on top of inlier scores near 1: z-scores alone see many "4σ" events.
    const scores = Array.from(
      { length: 6000 },
      () => 1 + 0.05 * rand() + (rand() < 0.05 ? Math.pow(rand(), -1 / 1.5) - 1 : 0),
    );
    const count = (t: Thresholder) => scores.reduce((n, s) => n + (t.decide(s, [0]).anomaly ? 1 : 0), 0);
    const withTail = new Thresholder({ suppression: 20 });
    const zOnly = new Thresholder({ suppression: 20, tailRisk: 1 });
    const alertsWithTail = count(withTail);
    const alertsZOnly = count(zOnly);
    expect(alertsZOnly).toBeGreaterThan(10);
    expect(alertsWithTail).toBeLessThan(alertsZOnly / 2);
    for (let i = 0; i < 30; i++) withTail.decide(1, [0]);
    const extreme = withTail.decide(5000, [0]);
    expect(extreme.anomaly).toBe(true);
    expect(extreme.tailProbability).toBeLessThan(withTail.options.tailRisk);
  });

  it("round-trips its state exactly, including the tail window", () => {
    const a = new Thresholder({ tailWindow: 300, tailRefit: 7, warmup: 30 });
    const rand = lcg(5);
    for (let i = 0; i < 1000; i++) a.decide(1 + rand() + (i % 97 === 0 ? 8 : 0), [0]);
    const b = new Thresholder({ tailWindow: 300, tailRefit: 7, warmup: 30 });
    b.restore(a.state());
    for (let i = 0; i < 500; i++) {
      const s = 1 + rand() + (i % 89 === 0 ? 6 : 0);
      expect(b.decide(s, [0])).toEqual(a.decide(s, [0]));
    }
    expect(b.state()).toEqual(a.state());
    expect(() => b.restore(a.state().subarray(0, 12))).toThrow(RangeError);
  });
});
