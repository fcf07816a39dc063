import { randomBytes } from "node:crypto";
import type { Device } from "../../src/telemetry/device.ts";

/** The seeds' payloads, verbatim where the seed gives one (see ../shared/seeds/). */
export const medicalRecord = {
  timestamp: "2018-01-27T05:11:50",
  device_id: "device8401",
  patient_id: "patient2605",
  name: "Eugenia Gottlieb",
  dob: "08/27/1977",
  temperature: 100.3,
  pulse: 108.6,
  oxygen_percent: 48.4,
  systolic: 110.2,
  diastolic: 75.6,
};
export const medicalTopic = "LifeSupportDevice/Sensor";

/** Every clear PHI value in the fixtures (whole values and recognisable parts). */
export const phiValues = ["Eugenia Gottlieb", "Eugenia", "Gottlieb", "08/27/1977", "patient2605"];

export const weatherTopic = "weather/wa/seattle/vzqHb8vghO/vib/bQ7KcaMEas";
export const weatherPayload = {
  value: 0.610802791886758,
  direction: -1,
  smoothed: 0.9843152123890655,
  timestamp: 1472611226005,
};

export const fanTopic = "IoT_TOPIC/recieve";
export const fanPayload = { TIME: "2024-03-01T12:00:00.123456", FANID: "ABC123456", FREQ: 40, RPM: 1200 };

export const canonicalTopic = "dt/plant-7/pump-1/telemetry";
export const canonicalPayload = {
  deviceId: "pump-1",
  ts: "2024-03-01T12:00:00Z",
  metrics: { pressure: 3.2, flow: 12.5 },
};

export const devices: Device[] = [
  { deviceId: "device8401", manufacturer: "Manufacturer 09", model: "Model 02" },
  { deviceId: "vzqHb8vghO", manufacturer: "Acme Weather", model: "WS-1" },
  { deviceId: "ABC123456", manufacturer: "Noctua", model: "NF-A12" },
  { deviceId: "pump-1", manufacturer: "Grundfos", model: "CR-5", site: "plant-7-registry" },
];

/** A fixed token key so tokens are reproducible in tests. */
export const testTokenKey = Buffer.alloc(32, 7);
export const randomKey = () => randomBytes(32);

export function expectNoPhiIn(text: string): string[] {
  return phiValues.filter((value) => text.includes(value));
}
