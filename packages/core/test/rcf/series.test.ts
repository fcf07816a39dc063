import { describe, expect, it } from "vitest";
import { ByteWriter } from "../../src/rcf/binary.ts";
import {
  AnomalyDetector,
  CHECKPOINT_VERSION,
  CheckpointVersionError,
  Thresholder,
} from "../../src/rcf/index.ts";
import { gaussian, lcg } from "./helpers.ts";

/**
 * One detector shared by several devices of a model (the scoring Lambda's case, ADR 0303): the forest and the
 * score statistics are shared, suppression and smoothing are per device (series).
 */
const DEVICES = ["dev-a", "dev-b", "dev-c", "dev-d"];

/** Round robin over the devices; each device has its own level around which it fluctuates. */
function fleet(seed: number) {
  const noise = gaussian(lcg(seed));
  let k = 0;
  return () => {
    const d = k % DEVICES.length;
    k++;
    return { device: DEVICES[d], point: [20 + d + noise(), 50 + 2 * d + 2 * noise()] };
  };
}

function warmed(seed: number, points = 2400) {
  const detector = new AnomalyDetector(2, { forest: { seed }, normalize: false });
  const next = fleet(seed + 1);
  for (let i = 0; i < points; i++) {
    const { device, point } = next();
    detector.process(point, device);
  }
  return { detector, next };
}

/**
 * 40 rounds over the devices; devices 0, 1 and 2 each get a spike, one round (4 points) apart. Returns the alerts
 * with how many of its own points after its spike the device alerted (the smoothed score may cross a point
 * late; -1 = not a spiked device / before its spike).
 */
function spikesOnThreeDevices(detector: AnomalyDetector, next: ReturnType<typeof fleet>, series: boolean) {
  const alerts: { device: string; after: number }[] = [];
  for (let round = 0; round < 40; round++) {
    for (let d = 0; d < DEVICES.length; d++) {
      const { device, point } = next();
      const spikeRound = d < 3 ? 10 + d : Infinity;
      const p = round === spikeRound ? [point[0] + 25, point[1]] : point;
      const r = series ? detector.process(p, device) : detector.process(p);
      if (r.newEpisode) alerts.push({ device, after: round >= spikeRound ? round - spikeRound : -1 });
    }
  }
  return alerts;
}

describe("per-series alert state on a shared model", () => {
  it("alerts on every device's spike even when they are a few points apart", () => {
    const { detector, next } = warmed(11);
    const alerts = spikesOnThreeDevices(detector, next, true);
    // One alert per spiked device, at its spike or within the smoothing span (3 of its points); none elsewhere.
    expect(alerts.map((a) => a.device)).toEqual(["dev-a", "dev-b", "dev-c"]);
    for (const a of alerts) {
      expect(a.after).toBeGreaterThanOrEqual(0);
      expect(a.after).toBeLessThan(3);
    }
  });

  it("(without series ids, one device's alert suppresses the others' spikes: the single-series behaviour)", () => {
    const { detector, next } = warmed(11);
    const alerts = spikesOnThreeDevices(detector, next, false);
    expect(new Set(alerts.filter((a) => a.after >= 0 && a.after < 3).map((a) => a.device)).size).toBeLessThan(
      3,
    );
  });

  it("does not alert on every point of one device's ongoing anomaly, and still alerts on another device", () => {
    const { detector, next } = warmed(23);
    const alertsByDevice = new Map<string, number>();
    let otherSpikeAlerted = false;
    for (let round = 0; round < 80; round++) {
      for (let d = 0; d < DEVICES.length; d++) {
        const { device, point } = next();
        // dev-a stays far off for 60 of its points; dev-b spikes once, just after dev-a's episode began.
        let p = point;
        if (d === 0 && round >= 10 && round < 70) p = [point[0] + 25, point[1]];
        if (d === 1 && round === 13) p = [point[0], point[1] + 50];
        const r = detector.process(p, device);
        if (r.newEpisode) alertsByDevice.set(device, (alertsByDevice.get(device) ?? 0) + 1);
        if (r.newEpisode && d === 1 && round >= 13 && round < 16) otherSpikeAlerted = true;
      }
    }
    expect(alertsByDevice.get("dev-a")).toBe(1);
    expect(otherSpikeAlerted).toBe(true);
  });

  it("checkpoints the per-series state: a restored detector continues exactly, cooldowns included", () => {
    const { detector, next } = warmed(31);
    // Leave dev-a in its cooldown and every series with a partly filled history.
    for (let i = 0; i < 8; i++) {
      const { device, point } = next();
      detector.process(device === "dev-a" && i === 0 ? [point[0] + 25, point[1]] : point, device);
    }
    const restored = AnomalyDetector.fromCheckpoint(detector.toCheckpoint({ compress: true }));
    expect(restored.thresholder.seriesCount).toBe(DEVICES.length);
    for (let round = 0; round < 60; round++) {
      for (let d = 0; d < DEVICES.length; d++) {
        const { device, point } = next();
        const p = round % 15 === 3 ? [point[0] + 25, point[1]] : point;
        const a = detector.process(p, device);
        const b = restored.process(p, device);
        expect(b).toEqual(a);
      }
    }
  });

  it("still reads a format-2 checkpoint (no series section): the named series start fresh", () => {
    const { detector } = warmed(41, 600);
    const bytes = detector.toCheckpoint();
    // Format 4 = format 2 + the series section + the raw-score tail at the end; cut both off and label it 2.
    const w = new ByteWriter();
    detector.thresholder.writeSeries(w);
    detector.thresholder.writeRawTail(w);
    const v2 = bytes.slice(0, bytes.length - w.finish().length - 1); // format 5: + 1 byte, no normaliser
    v2[4] = 2;
    v2[5] = 0;
    const restored = AnomalyDetector.fromCheckpoint(v2);
    expect(restored.thresholder.seriesCount).toBe(0);
    expect(restored.thresholder.state()).toEqual(detector.thresholder.state());
    const newer = bytes.slice();
    newer[4] = CHECKPOINT_VERSION + 1;
    expect(() => AnomalyDetector.fromCheckpoint(newer)).toThrow(CheckpointVersionError);
  });

  it("keeps at most maxSeries series, forgetting the least recently seen", () => {
    const t = new Thresholder({ maxSeries: 3, warmup: 0 });
    for (const id of ["a", "b", "c", "a", "d"]) t.decide(1, [0], id);
    expect(t.seriesCount).toBe(3);
    const w = new ByteWriter();
    t.writeSeries(w);
    const text = new TextDecoder().decode(w.finish());
    expect(text).not.toContain("b");
    expect(text.indexOf("c")).toBeLessThan(text.indexOf("a"));
    expect(text.indexOf("a")).toBeLessThan(text.indexOf("d"));
  });

  it("keeps 20,000 device series within a bounded checkpoint", () => {
    const detector = new AnomalyDetector(1, { forest: { seed: 5, numberOfTrees: 10 } });
    const rand = lcg(9);
    for (let i = 0; i < 40_000; i++) detector.process([rand()], `device-${i % 20_000}`);
    expect(detector.thresholder.seriesCount).toBe(20_000);
    const compressed = detector.toCheckpoint({ compress: true });
    const plain = detector.toCheckpoint();
    const w = new ByteWriter();
    detector.thresholder.writeSeries(w);
    // ≤ 2 + id + 1 + 1 + 1 + smoothing × 8 bytes per series.
    expect(w.finish().length).toBeLessThan(20_000 * 40);
    expect(compressed.length).toBeLessThan(plain.length);
    const restored = AnomalyDetector.fromCheckpoint(compressed);
    expect(restored.thresholder.seriesCount).toBe(20_000);
    expect(restored.process([0.5], "device-7")).toEqual(detector.process([0.5], "device-7"));
  });
});
