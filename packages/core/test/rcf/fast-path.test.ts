import { describe, expect, it } from "vitest";
import { ByteWriter } from "../../src/rcf/binary.ts";
import { AnomalyDetector, CheckpointFormatError, defaultThresholderOptions } from "../../src/rcf/index.ts";
import { gaussian, lcg } from "./helpers.ts";

/**
 * The thresholder's raw-score fast path (ADR 0304): a single-point spike is diluted by the 3-point smoothing, so
 * the smoothed path may alert late or not at all; the fast path tests the unsmoothed score on its own.
 */
const FAST = { rawTailRisk: 0.003, rawZFactor: 8 };

function warmedDetector(thresholder: Record<string, number>, seed = 3, points = 3000) {
  const detector = new AnomalyDetector(2, { forest: { seed }, thresholder, normalize: false });
  const noise = gaussian(lcg(seed + 1));
  const next = () => [20 + noise(), 50 + 2 * noise()];
  for (let i = 0; i < points; i++) detector.process(next());
  return { detector, next };
}

describe("raw-score fast path", () => {
  it("is off by default (the defaults serve NAB and the scoring Lambda alike)", () => {
    expect(defaultThresholderOptions.rawTailRisk).toBe(0);
  });

  it("alerts on the very point of a single-point spike on a warmed forest", () => {
    const { detector, next } = warmedDetector(FAST);
    const results = [];
    for (let i = 0; i < 40; i++) {
      const p = next();
      results.push(detector.process(i === 20 ? [p[0] + 12, p[1]] : p));
    }
    const alerts = results.flatMap((r, i) => (r.newEpisode ? [i] : []));
    expect(alerts).toEqual([20]);
    expect(results[20].grade).toBeGreaterThan(0);
    expect(results[20].attribution[0]).toMatchObject({ index: 0, direction: "HIGH" });
    // Its score is far above the inliers', and the smoothed path alone would have seen a third of the excess.
    expect(results[20].score).toBeGreaterThan(3 * results[19].score);
    const smoothed = detector.thresholder.decide(results[20].score, [0], "other-series");
    expect(smoothed.rawTailProbability).toBeLessThan(FAST.rawTailRisk);
  });

  it("does not alert on a stream without spikes", () => {
    const { detector, next } = warmedDetector(FAST, 8, 1000);
    let alerts = 0;
    for (let i = 0; i < 3000; i++) if (detector.process(next()).newEpisode) alerts++;
    expect(alerts).toBeLessThanOrEqual(3);
  });

  it("checkpoints the raw-score tail (format 4): a restored detector continues exactly", () => {
    const { detector, next } = warmedDetector(FAST, 5, 1200);
    const restored = AnomalyDetector.fromCheckpoint(detector.toCheckpoint({ compress: true }));
    for (let i = 0; i < 300; i++) {
      const p = next();
      const spiked = i % 97 === 50 ? [p[0], p[1] + 30] : p;
      expect(restored.process(spiked)).toEqual(detector.process(spiked));
    }
    expect(restored.toCheckpoint()).toEqual(detector.toCheckpoint());
  });

  it("still reads a format-3 checkpoint (no raw-score tail): the fast path refits from new scores", () => {
    const { detector, next } = warmedDetector(FAST, 6, 1200);
    const bytes = detector.toCheckpoint();
    const w = new ByteWriter();
    detector.thresholder.writeRawTail(w);
    const v3 = bytes.slice(0, bytes.length - w.finish().length - 1); // format 5: + 1 byte, no normaliser
    v3[4] = 3;
    v3[5] = 0;
    const restored = AnomalyDetector.fromCheckpoint(v3);
    const empty = new ByteWriter();
    restored.thresholder.writeRawTail(empty);
    expect(empty.finish().length).toBe(2 + 4 * 8);
    for (let i = 0; i < 100; i++) {
      const p = next();
      expect(restored.process(p).score).toBe(detector.process(p).score);
    }
    const refilled = new ByteWriter();
    restored.thresholder.writeRawTail(refilled);
    expect(refilled.finish().length).toBe(2 + 4 * 8 + 4 * 100);
  });

  it("refuses an inconsistent raw-score tail", () => {
    const { detector } = warmedDetector(FAST, 7, 400);
    const bytes = detector.toCheckpoint();
    const w = new ByteWriter();
    detector.thresholder.writeRawTail(w);
    const cut = bytes.length - w.finish().length - 1; // format 5: + 1 byte, no normaliser
    const broken = new ByteWriter();
    broken.bytes(bytes.subarray(0, cut));
    broken.varint(6000); // more scores than the 5000-score window holds
    broken.varint(0);
    for (let i = 0; i < 4; i++) broken.f64(0);
    broken.u8(0);
    expect(() => AnomalyDetector.fromCheckpoint(broken.finish())).toThrow(CheckpointFormatError);
  });
});
