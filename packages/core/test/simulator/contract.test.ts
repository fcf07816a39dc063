import { describe, expect, it } from "vitest";
import { resolvePayloadSource } from "../../src/telemetry/payload-sources.ts";
import { defaultSimulatedDevices } from "../../src/simulator/devices.ts";
import { createSimulation } from "../../src/simulator/simulation.ts";

/**
 * The simulator publishes what ingest accepts: every simulated message maps, through core's own payload
 * sources (the code the transformation handler runs), to a reading of the same device, time and metrics.
 */
describe("simulated messages against core's payload sources", () => {
  it("parse to the simulated device, event time and metrics", () => {
    const devices = defaultSimulatedDevices();
    const simulation = createSimulation({
      seed: 8,
      devices,
      anomalies: { kinds: ["spike", "drift", "stuck"], rate: 0.05 },
    });
    const t0 = Date.parse("2024-06-01T10:00:00.000Z");
    const seenSources = new Set<string>();
    for (let k = 0; k < 4000; k++) {
      const { message } = simulation.step(k % devices.length, t0 + k * 7);
      if (!message) continue;
      const source = resolvePayloadSource(message.topic);
      expect(source, message.topic).toBeDefined();
      seenSources.add(source!.source);
      const parsed = source!.parse(message.topic, JSON.parse(message.payload));
      expect(parsed.deviceId).toBe(message.deviceId);
      expect(source!.partitionKey(message.topic, JSON.parse(message.payload))).toBe(message.deviceId);
      // Medical timestamps carry whole seconds (seed 003); the others milliseconds.
      const expectedMs =
        message.deviceType === "medical"
          ? Math.floor(message.eventTimeMs / 1000) * 1000
          : message.eventTimeMs;
      expect(parsed.tsMs).toBe(expectedMs);
      for (const [metric, value] of Object.entries(message.metrics))
        expect(parsed.metrics[metric]).toBe(value);
    }
    expect([...seenSources].sort()).toEqual(["canonical", "fan", "medical", "weather"]);
  });
});
