import { describe, expect, it } from "vitest";
import { simulatedDevices } from "../../src/simulator/devices.ts";
import { FAN_TOPIC, MEDICAL_TOPIC } from "../../src/simulator/device-types.ts";
import { medicalTimestamp, pythonIsoformat } from "../../src/simulator/payloads.ts";
import { createSimulation, type SimulatedMessage } from "../../src/simulator/simulation.ts";
import { fanPayload, medicalRecord, weatherPayload } from "../telemetry/seed-payloads.ts";

const T0 = Date.parse("2018-01-27T05:11:50.000Z");

/** Field name → JSON type, in order, as the seeds show them. */
function shape(value: Record<string, unknown>): [string, string][] {
  return Object.entries(value).map(([key, field]) => [key, typeof field]);
}

function messagesOf(type: "medical" | "weather" | "fan" | "canonical", count: number): SimulatedMessage[] {
  const devices = simulatedDevices(3, { types: [type] });
  const simulation = createSimulation({ seed: 5, devices });
  const messages: SimulatedMessage[] = [];
  for (let k = 0; k < count; k++) {
    const step = simulation.step(k % devices.length, T0 + k * 333);
    if (step.message) messages.push(step.message);
  }
  return messages;
}

describe("payloads match the seeds", () => {
  it("medical: the seed 003 record on LifeSupportDevice/Sensor", () => {
    for (const message of messagesOf("medical", 300)) {
      expect(message.topic).toBe(MEDICAL_TOPIC);
      const payload = JSON.parse(message.payload);
      expect(shape(payload)).toEqual(shape(medicalRecord));
      expect(payload.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(payload.device_id).toBe(message.deviceId);
      for (const metric of ["temperature", "pulse", "oxygen_percent", "systolic", "diastolic"]) {
        expect(Number.isFinite(payload[metric])).toBe(true);
        // One decimal, as the seed.
        expect(Math.round(payload[metric] * 10) / 10).toBe(payload[metric]);
        expect(message.metrics[metric]).toBe(payload[metric]);
      }
    }
  });

  it("weather: seed 000 topic levels and {value, direction, smoothed, timestamp}", () => {
    const sensorTypes = new Set<string>();
    for (const message of messagesOf("weather", 400)) {
      const levels = message.topic.split("/");
      expect(levels).toHaveLength(6);
      expect(levels[0]).toBe("weather");
      expect(levels[3]).toBe(message.deviceId); // station id: the device
      sensorTypes.add(levels[4]);
      const payload = JSON.parse(message.payload);
      expect(shape(payload)).toEqual(shape(weatherPayload));
      expect([-1, 0, 1]).toContain(payload.direction);
      expect(Number.isInteger(payload.timestamp)).toBe(true);
      expect(payload.timestamp).toBe(message.eventTimeMs);
      expect(message.metrics).toEqual({ [levels[4]]: payload.value });
    }
    expect([...sensorTypes].sort()).toEqual(["hum", "temp", "vib", "wind"]);
  });

  it("weather: smoothed follows the value and direction says which side of it the value is", () => {
    const messages = messagesOf("weather", 2000).filter((m) => m.topic.split("/")[4] === "temp");
    const byStation = new Map<string, { value: number; smoothed: number; direction: number }[]>();
    for (const message of messages) {
      const list = byStation.get(message.deviceId) ?? [];
      list.push(JSON.parse(message.payload));
      byStation.set(message.deviceId, list);
    }
    for (const series of byStation.values()) {
      for (let i = 1; i < series.length; i++) {
        const previous = series[i - 1].smoothed;
        expect(series[i].smoothed).toBeCloseTo(0.2 * series[i].value + 0.8 * previous, 10);
        expect(series[i].direction).toBe(Math.sign(series[i].value - previous) || 0);
      }
    }
  });

  it("fan: seed 001 {TIME, FANID, FREQ, RPM} on IoT_TOPIC/recieve with RPM = FREQ / 2 * 60", () => {
    for (const message of messagesOf("fan", 300)) {
      expect(message.topic).toBe(FAN_TOPIC);
      const payload = JSON.parse(message.payload);
      expect(shape(payload)).toEqual(shape(fanPayload));
      expect(payload.TIME).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
      expect(Number.isInteger(payload.FREQ)).toBe(true);
      expect(Number.isInteger(payload.RPM)).toBe(true);
      expect(payload.RPM).toBe((payload.FREQ / 2) * 60);
      expect(payload.FANID).toBe(message.deviceId);
    }
  });

  it("canonical: {deviceId, ts, metrics} on dt/{site}/{deviceId}/telemetry", () => {
    for (const message of messagesOf("canonical", 100)) {
      const payload = JSON.parse(message.payload);
      expect(Object.keys(payload)).toEqual(["deviceId", "ts", "metrics"]);
      expect(message.topic).toMatch(new RegExp(`^dt/[a-z0-9-]+/${payload.deviceId}/telemetry$`));
      expect(payload.ts).toBe(new Date(message.eventTimeMs).toISOString());
      expect(Object.keys(payload.metrics)).toEqual(["temperature", "vibration", "pressure", "current"]);
      for (const value of Object.values(payload.metrics)) expect(typeof value).toBe("number");
    }
  });

  it("formats naive timestamps like the seeds' devices", () => {
    const t = Date.parse("2018-01-27T05:11:50.123Z");
    expect(medicalTimestamp(t)).toBe("2018-01-27T05:11:50");
    expect(pythonIsoformat(t)).toBe("2018-01-27T05:11:50.123000");
    // Python's isoformat() leaves the fraction out when it is zero.
    expect(pythonIsoformat(Date.parse("2018-01-27T05:11:50.000Z"))).toBe("2018-01-27T05:11:50");
  });
});
