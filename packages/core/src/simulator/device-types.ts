import { z } from "zod";
import { InvalidSimulationOptionError } from "./errors.ts";

/** The simulated device families: the three seed payloads plus Driftwatch's canonical one (DESIGN.md contract). */
export const simulatedDeviceTypeSchema = z.enum(["medical", "weather", "fan", "canonical"]);
export type SimulatedDeviceType = z.infer<typeof simulatedDeviceTypeSchema>;

export const allSimulatedDeviceTypes: readonly SimulatedDeviceType[] = simulatedDeviceTypeSchema.options;

/** Seed 003: every medical device publishes on this one topic; the device is the payload's `device_id`. */
export const MEDICAL_TOPIC = "LifeSupportDevice/Sensor";
/** Seed 001: the fan publishes on this topic (spelling as in the seed); the device is `FANID`. */
export const FAN_TOPIC = "IoT_TOPIC/recieve";

/** Seed 003 record field order; `temperature`…`diastolic` are the metrics (the telemetry contract's names). */
export { medicalMetricNames } from "../telemetry/sources/medical.ts";
/** Seed 000 sensor types (topic level 5); the sensor type is the metric name. */
export const weatherSensorTypes = ["temp", "hum", "wind", "vib"] as const;
/** Seed 001: one underlying signal, the pulse frequency; `RPM = FREQ / 2 * 60`. */
export const fanMetricNames = ["FREQ", "RPM"] as const;
/** The canonical simulated device: a pump on a plant floor. */
export const canonicalMetricNames = ["temperature", "vibration", "pressure", "current"] as const;

export type WeatherSensorType = (typeof weatherSensorTypes)[number];

/** `weather/<state>/<city>/<station_id>/<sensor_type>/<sensor_id>` (seed 000). */
export function weatherTopic(
  state: string,
  city: string,
  stationId: string,
  sensorType: string,
  sensorId: string,
): string {
  return `weather/${state}/${city}/${stationId}/${sensorType}/${sensorId}`;
}

/** `dt/{site}/{deviceId}/telemetry`. */
export function canonicalTopic(site: string, deviceId: string): string {
  return `dt/${site}/${deviceId}/telemetry`;
}

/** Parses a comma-separated list of device types (CLI), naming what is wrong. */
export function parseDeviceTypes(list: string): SimulatedDeviceType[] {
  const parts = list
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (parts.length === 0) {
    throw new InvalidSimulationOptionError(
      `no device types given (choose from ${allSimulatedDeviceTypes.join(", ")})`,
      {
        option: "types",
      },
    );
  }
  const types: SimulatedDeviceType[] = [];
  for (const part of parts) {
    const parsed = simulatedDeviceTypeSchema.safeParse(part);
    if (!parsed.success) {
      throw new InvalidSimulationOptionError(
        `unknown device type "${part}" (choose from ${allSimulatedDeviceTypes.join(", ")})`,
        { option: "types" },
      );
    }
    if (!types.includes(parsed.data)) types.push(parsed.data);
  }
  return types;
}
