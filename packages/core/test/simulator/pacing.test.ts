import { describe, expect, it } from "vitest";
import { InvalidSimulationOptionError } from "../../src/simulator/errors.ts";
import {
  achievedRate,
  clientForDevice,
  deviceForMessage,
  deviceIntervalMs,
  dueCount,
  dueOffsetMs,
  eventTimeMs,
  peakClientRate,
  planPacing,
} from "../../src/simulator/pacing.ts";

describe("pacing", () => {
  it("plans totals from a duration or a count, or runs until stopped", () => {
    expect(planPacing({ rate: 1000, devices: 100, durationSeconds: 60 }).total).toBe(60_000);
    expect(planPacing({ rate: 2.5, devices: 1, durationSeconds: 3 }).total).toBe(8); // 7.5 rounds to 8
    expect(planPacing({ rate: 10, devices: 5, count: 42 }).total).toBe(42);
    expect(planPacing({ rate: 10, devices: 5 }).total).toBe(Infinity);
    expect(planPacing({ rate: 10, devices: 5 }).clients).toBe(5); // one connection per device by default
  });

  it("spreads the fleet rate evenly over devices and clients", () => {
    const plan = planPacing({ rate: 1000, devices: 1000, clients: 100, durationSeconds: 60 });
    expect(deviceIntervalMs(plan)).toBe(1000);
    expect(peakClientRate(plan)).toBe(10);
    const perDevice = new Map<number, number>();
    const perClient = new Map<number, number>();
    for (let k = 0; k < plan.total; k++) {
      const device = deviceForMessage(plan, k);
      perDevice.set(device, (perDevice.get(device) ?? 0) + 1);
      const client = clientForDevice(plan, device);
      perClient.set(client, (perClient.get(client) ?? 0) + 1);
    }
    expect(perDevice.size).toBe(1000);
    expect(new Set(perDevice.values())).toEqual(new Set([60]));
    expect(perClient.size).toBe(100);
    expect(new Set(perClient.values())).toEqual(new Set([600]));
    // Uneven split: the busiest client carries ceil(devices / clients) devices.
    expect(peakClientRate(planPacing({ rate: 70, devices: 7, clients: 3 }))).toBe(30);
  });

  it("makes messages due at k / rate and never more than the total", () => {
    const plan = planPacing({ rate: 1000, devices: 10, count: 5000 });
    expect(dueCount(plan, -1)).toBe(0);
    expect(dueCount(plan, 0)).toBe(1);
    expect(dueCount(plan, 0.999)).toBe(1);
    expect(dueCount(plan, 1)).toBe(2);
    expect(dueCount(plan, 999)).toBe(1000);
    expect(dueCount(plan, 10_000)).toBe(5000);
    const odd = planPacing({ rate: 3, devices: 1 });
    for (let k = 0; k < 1000; k++) {
      // Message k is due exactly at its offset, not one timer tick later.
      expect(dueCount(odd, dueOffsetMs(odd, k))).toBe(k + 1);
    }
  });

  it("gives every device strictly increasing event times", () => {
    const plan = planPacing({ rate: 1000, devices: 3, count: 3000 });
    const start = 1_717_000_000_123;
    const last = new Map<number, number>();
    for (let k = 0; k < plan.total; k++) {
      const device = deviceForMessage(plan, k);
      const t = eventTimeMs(plan, start, k);
      expect(t).toBeGreaterThan(last.get(device) ?? -Infinity);
      last.set(device, t);
    }
    expect(eventTimeMs(plan, start, 2999)).toBe(start + 2999);
  });

  it("computes the achieved rate", () => {
    expect(achievedRate(60_000, 60_000)).toBe(1000);
    expect(achievedRate(10, 0)).toBe(0);
  });

  it("rejects impossible plans with a named error", () => {
    expect(() => planPacing({ rate: 0, devices: 1 })).toThrow(InvalidSimulationOptionError);
    expect(() => planPacing({ rate: 10, devices: 0 })).toThrow(/devices/);
    expect(() => planPacing({ rate: 10, devices: 5, clients: 6 })).toThrow(/clients/);
    expect(() => planPacing({ rate: 10, devices: 5, count: 3, durationSeconds: 1 })).toThrow(/not both/);
    expect(() => planPacing({ rate: 10, devices: 5, count: -3 })).toThrow(/count/);
  });
});
