import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import type { AnomalyKind } from "../../src/simulator/anomaly-kind.ts";
import { simulatedDevices, type SimulatedDevice } from "../../src/simulator/devices.ts";
import { groundTruthLabelSchema, type GroundTruthLabel } from "../../src/simulator/ground-truth.ts";
import { dailyLevel, fluctuationScale } from "../../src/simulator/metric-process.ts";
import { createSimulation, type SimulatedMessage } from "../../src/simulator/simulation.ts";

const T0 = Date.parse("2024-06-01T00:00:00.000Z");
const STEP_MS = 250;

interface Run {
  /** Message slot k → message (undefined: suppressed). */
  slots: (SimulatedMessage | undefined)[];
  labels: GroundTruthLabel[];
}

function run(
  seed: number,
  devices: SimulatedDevice[],
  slots: number,
  anomalies?: { kinds: AnomalyKind[]; rate: number },
): Run {
  const simulation = createSimulation({ seed, devices, anomalies });
  const out: Run = { slots: [], labels: [] };
  for (let k = 0; k < slots; k++) {
    const step = simulation.step(k % devices.length, T0 + k * STEP_MS);
    out.slots.push(step.message);
    out.labels.push(...step.labels);
  }
  out.labels.push(...simulation.finish());
  return out;
}

describe("createSimulation", () => {
  it("is deterministic per seed", () => {
    const devices = simulatedDevices(8);
    const a = run(11, devices, 2000, { kinds: ["spike", "drift", "stuck", "dropout"], rate: 0.01 });
    const b = run(11, devices, 2000, { kinds: ["spike", "drift", "stuck", "dropout"], rate: 0.01 });
    const c = run(12, devices, 2000, { kinds: ["spike", "drift", "stuck", "dropout"], rate: 0.01 });
    expect(a).toEqual(b);
    expect(a.labels.length).toBeGreaterThan(0);
    expect(c.slots.map((m) => m?.payload)).not.toEqual(a.slots.map((m) => m?.payload));
    // Identities do not depend on the seed: same devices on the same topics, slot by slot.
    const plainA = run(11, devices, 200);
    const plainC = run(12, devices, 200);
    expect(plainC.slots.map((m) => m?.topic)).toEqual(plainA.slots.map((m) => m?.topic));
    expect(plainC.slots.map((m) => m?.deviceId)).toEqual(plainA.slots.map((m) => m?.deviceId));
  });

  it("does not let one device's stream depend on the others", () => {
    const devices = simulatedDevices(8);
    const all = run(3, devices, 800);
    const alone = run(3, [devices[5]], 100);
    // Device 5 at slot 5 + 8j has event time T0 + (5 + 8j)·STEP; replay those times on its own.
    const simulation = createSimulation({ seed: 3, devices: [devices[5]] });
    for (let j = 0; j < 100; j++) {
      const expected = all.slots[5 + 8 * j];
      expect(simulation.step(0, T0 + (5 + 8 * j) * STEP_MS).message).toEqual(expected);
    }
    expect(alone.slots).toHaveLength(100);
  });

  it("produces healthy values around each device's daily level, within bounds", () => {
    const devices = simulatedDevices(4);
    const simulation = createSimulation({ seed: 99, devices });
    // One day at one message per device per 20 s.
    const residuals = new Map<string, number[]>();
    for (let t = 0; t < 86_400_000; t += 20_000) {
      for (let d = 0; d < devices.length; d++) {
        const { message } = simulation.step(d, T0 + t);
        if (!message) throw new Error("no anomalies configured, every slot sends");
        for (const [metric, value] of Object.entries(message.metrics)) {
          const signal = metric === "RPM" ? undefined : devices[d].signals[metric];
          if (!signal) continue;
          expect(value).toBeGreaterThanOrEqual(signal.min);
          expect(value).toBeLessThanOrEqual(signal.max);
          const key = `${d}/${metric}`;
          const list = residuals.get(key) ?? [];
          list.push((value - dailyLevel(signal, T0 + t)) / fluctuationScale(signal));
          residuals.set(key, list);
        }
      }
    }
    for (const [key, list] of residuals) {
      const mean = list.reduce((s, v) => s + v, 0) / list.length;
      const sd = Math.sqrt(list.reduce((s, v) => s + (v - mean) ** 2, 0) / list.length);
      // Normal behaviour: centred on the daily cycle, spread about one fluctuation unit, no wild excursions.
      expect(Math.abs(mean), key).toBeLessThan(0.6);
      expect(sd, key).toBeGreaterThan(0.4);
      expect(sd, key).toBeLessThan(1.6);
      expect(Math.max(...list.map(Math.abs)), key).toBeLessThan(6);
    }
  });

  it("rejects duplicate devices and bad anomaly rates", () => {
    const [device] = simulatedDevices(1);
    expect(() => createSimulation({ seed: 1, devices: [device, device] })).toThrow(/listed twice/);
    expect(() =>
      createSimulation({ seed: 1, devices: [device], anomalies: { kinds: ["spike"], rate: 2 } }),
    ).toThrow(/probability/);
  });
});

describe("anomaly injection", () => {
  const devices = simulatedDevices(8);
  const SLOTS = 40_000; // 10,000 s of event time, 8 devices at 0.5 message/s each

  // The healthy run is the same for every kind: simulated once. Per-slot checks below call `expect` only on a
  // mismatch (40,000 slots × several matcher calls made this file one of the suite's slowest).
  let healthyRun: Run | undefined;
  function compare(kind: AnomalyKind) {
    const healthy = (healthyRun ??= run(21, devices, SLOTS));
    const injected = run(21, devices, SLOTS, { kinds: [kind], rate: 0.004 });
    for (const label of injected.labels) groundTruthLabelSchema.parse(label);
    return { healthy, injected };
  }

  const indexes = new WeakMap<GroundTruthLabel[], Map<string, GroundTruthLabel[]>>();
  /** The labels whose span covers the message (labels indexed by device: the loops below are long). */
  function covering(
    labels: GroundTruthLabel[],
    message: { deviceId: string; eventTimeMs: number },
  ): GroundTruthLabel[] {
    let index = indexes.get(labels);
    if (!index) {
      index = new Map();
      for (const label of labels) index.set(label.deviceId, [...(index.get(label.deviceId) ?? []), label]);
      indexes.set(labels, index);
    }
    return (index.get(message.deviceId) ?? []).filter((label) => within(label, message));
  }

  const spans = new WeakMap<GroundTruthLabel, { start: number; end: number }>();
  function within(label: GroundTruthLabel, message: { deviceId: string; eventTimeMs: number }): boolean {
    let span = spans.get(label);
    if (!span) spans.set(label, (span = { start: Date.parse(label.start), end: Date.parse(label.end) }));
    return (
      label.deviceId === message.deviceId &&
      message.eventTimeMs >= span.start &&
      message.eventTimeMs <= span.end
    );
  }

  it("spike: one message, the labelled metric only, in the labelled direction and size", () => {
    const { healthy, injected } = compare("spike");
    expect(injected.labels.length).toBeGreaterThan(10);
    let changed = 0;
    for (let k = 0; k < SLOTS; k++) {
      const before = healthy.slots[k]!;
      const after = injected.slots[k]!;
      const labels = covering(injected.labels, after);
      for (const metric of Object.keys(after.metrics)) {
        const delta = after.metrics[metric] - before.metrics[metric];
        if (delta === 0) continue;
        changed++;
        expect(labels, `${after.deviceId} ${metric} at ${after.eventTimeMs}`).toHaveLength(1);
        const [label] = labels;
        expect(label.metrics).toContain(metric);
        expect(label.start).toBe(label.end);
        expect(Math.sign(delta)).toBe(label.direction === "HIGH" ? 1 : -1);
        if (metric === label.metric) expect(Math.abs(delta)).toBeGreaterThan(0.5 * label.magnitude!);
      }
    }
    // Every label shows up in its message (clamping never cancels a spike).
    expect(injected.labels.every((label) => label.messages === 1)).toBe(true);
    expect(changed).toBeGreaterThanOrEqual(injected.labels.length);
  });

  it("drift: a growing offset on the labelled metric between start and end", () => {
    const { healthy, injected } = compare("drift");
    expect(injected.labels.length).toBeGreaterThan(5);
    for (let k = 0; k < SLOTS; k++) {
      const before = healthy.slots[k]!;
      const after = injected.slots[k]!;
      for (const metric of Object.keys(after.metrics)) {
        const delta = after.metrics[metric] - before.metrics[metric];
        if (delta === 0) continue;
        const labels = covering(injected.labels, after).filter((label) => label.metrics.includes(metric));
        expect(labels, `${after.deviceId} ${metric}`).toHaveLength(1);
        expect(Math.sign(delta)).toBe(labels[0].direction === "HIGH" ? 1 : -1);
      }
    }
    // The offset at the end of a full (untruncated) drift is most of its magnitude.
    for (const label of injected.labels.filter(
      (l) => !l.truncated && l.messages > 3 && l.deviceType !== "fan",
    )) {
      const k = injected.slots.findIndex(
        (m) => m?.deviceId === label.deviceId && m.eventTimeMs === Date.parse(label.end),
      );
      const delta = injected.slots[k]!.metrics[label.metric] - healthy.slots[k]!.metrics[label.metric];
      expect(Math.abs(delta)).toBeGreaterThan(0.7 * label.magnitude!);
    }
  });

  it("stuck: the labelled metric repeats the labelled value for the whole span", () => {
    const { injected } = compare("stuck");
    expect(injected.labels.length).toBeGreaterThan(5);
    for (const label of injected.labels) {
      const carried = injected.slots.filter(
        (m): m is SimulatedMessage => m !== undefined && within(label, m) && label.metric in m.metrics,
      );
      expect(carried).toHaveLength(label.messages);
      for (const message of carried) expect(message.metrics[label.metric]).toBe(label.value);
    }
  });

  it("dropout: the device sends nothing in the labelled span, and only there", () => {
    const { healthy, injected } = compare("dropout");
    expect(injected.labels.length).toBeGreaterThan(3);
    const suppressed = new Map<string, number>();
    for (let k = 0; k < SLOTS; k++) {
      const after = injected.slots[k];
      const expected = healthy.slots[k]!;
      const labels = covering(injected.labels, expected);
      if (after === undefined) {
        expect(labels, `${expected.deviceId} at ${expected.eventTimeMs}`).toHaveLength(1);
        expect(labels[0].metric).toBe("*");
        const key = `${labels[0].deviceId}/${labels[0].start}`;
        suppressed.set(key, (suppressed.get(key) ?? 0) + 1);
      } else {
        if (labels.length !== 0) expect(labels).toHaveLength(0);
        // Outside dropouts the messages are exactly the healthy ones.
        if (!isDeepStrictEqual(after, expected)) expect(after).toEqual(expected);
      }
    }
    for (const label of injected.labels)
      expect(suppressed.get(`${label.deviceId}/${label.start}`)).toBe(label.messages);
  });

  it("labels an anomaly still going on at the end as truncated", () => {
    const simulation = createSimulation({
      seed: 1,
      devices: devices.slice(0, 1),
      anomalies: { kinds: ["stuck"], rate: 1 },
    });
    simulation.step(0, T0);
    const step = simulation.step(0, T0 + 1000);
    expect(step.labels).toEqual([]);
    const [label] = simulation.finish();
    expect(label).toMatchObject({
      kind: "stuck",
      truncated: true,
      messages: 2,
      deviceId: devices[0].deviceId,
    });
    expect(simulation.finish()).toEqual([]);
  });
});
