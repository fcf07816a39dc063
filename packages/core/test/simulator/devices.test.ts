import { describe, expect, it } from "vitest";
import { deviceListSchema } from "../../src/telemetry/device.ts";
import {
  DEFAULT_DEVICES_PER_TYPE,
  defaultRegistryDevices,
  defaultSimulatedDevices,
  deviceMetricNames,
  deviceTopics,
  isInDefaultRegistry,
  simulatedDevice,
  simulatedDevices,
  toRegistryDevice,
} from "../../src/simulator/devices.ts";
import { parseDeviceTypes } from "../../src/simulator/device-types.ts";
import { InvalidSimulationOptionError } from "../../src/simulator/errors.ts";

describe("simulated fleet", () => {
  it("interleaves the types and is prefix-stable", () => {
    const small = simulatedDevices(10);
    const large = simulatedDevices(400);
    expect(large.slice(0, 10)).toEqual(small);
    expect(small.slice(0, 4).map((device) => device.type)).toEqual([
      "medical",
      "weather",
      "fan",
      "canonical",
    ]);
    expect(small[4]).toEqual(simulatedDevice("medical", 1));
  });

  it("keeps device k of a type the same whatever types are asked for", () => {
    const medicalOnly = simulatedDevices(5, { types: ["medical"] });
    expect(medicalOnly.map((device) => device.deviceId)).toEqual(
      [0, 1, 2, 3, 4].map((ordinal) => simulatedDevice("medical", ordinal).deviceId),
    );
    const fanAndWeather = simulatedDevices(4, { types: ["fan", "weather"] });
    expect(fanAndWeather[3]).toEqual(simulatedDevice("weather", 1));
  });

  it("gives unique ids, topics and patients across a large fleet", () => {
    const devices = simulatedDevices(4000);
    expect(new Set(devices.map((device) => device.deviceId)).size).toBe(4000);
    const topics = devices
      .filter((device) => device.type !== "medical" && device.type !== "fan")
      .flatMap(deviceTopics);
    expect(new Set(topics).size).toBe(topics.length);
    const patients = devices.flatMap((device) =>
      device.type === "medical" ? [device.patient.patientId] : [],
    );
    expect(new Set(patients).size).toBe(patients.length);
  });

  it("follows the seeds' identifier formats", () => {
    const [medical, weather, fan, canonical] = simulatedDevices(4);
    expect(medical.deviceId).toBe("device8401");
    if (medical.type !== "medical") throw new Error("expected medical");
    expect(medical.patient.patientId).toBe("patient2605");
    expect(medical.patient.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect(medical.patient.dob).toMatch(/^(0[1-9]|1[0-2])\/(0[1-9]|[12]\d)\/(19|20)\d\d$/);
    if (weather.type !== "weather") throw new Error("expected weather");
    expect(weather.stationId).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(weather.sensors.map((sensor) => sensor.sensorType)).toEqual(["temp", "hum", "wind", "vib"]);
    for (const sensor of weather.sensors) {
      expect(sensor.sensorId).toMatch(/^[A-Za-z0-9]{10}$/);
      expect(sensor.topic).toBe(
        `weather/${weather.state}/${weather.city}/${weather.stationId}/${sensor.sensorType}/${sensor.sensorId}`,
      );
    }
    expect(fan.deviceId).toBe("ABC123456");
    expect(canonical.deviceId).toBe("pump-0001");
    if (canonical.type !== "canonical") throw new Error("expected canonical");
    expect(canonical.topic).toBe(`dt/${canonical.site}/pump-0001/telemetry`);
  });

  it("has the default registry seed: the first devices of every type, valid for `devices import`", () => {
    const defaults = defaultSimulatedDevices();
    expect(defaults).toHaveLength(4 * DEFAULT_DEVICES_PER_TYPE);
    for (const type of ["medical", "weather", "fan", "canonical"] as const) {
      expect(defaults.filter((device) => device.type === type)).toHaveLength(DEFAULT_DEVICES_PER_TYPE);
    }
    expect(defaults.every(isInDefaultRegistry)).toBe(true);
    expect(isInDefaultRegistry(simulatedDevice("fan", DEFAULT_DEVICES_PER_TYPE))).toBe(false);
    const registry = defaultRegistryDevices();
    expect(deviceListSchema.parse(registry)).toEqual(registry);
    expect(registry[0]).toEqual(toRegistryDevice(defaults[0]));
    expect(Object.keys(registry[0]).sort()).toEqual(["deviceId", "manufacturer", "model", "site"]);
  });

  it("uses several models per type, so model keys hold several devices", () => {
    const devices = simulatedDevices(40);
    for (const type of ["medical", "weather", "fan", "canonical"]) {
      const models = new Set(
        devices.filter((d) => d.type === type).map((d) => `${d.manufacturer}/${d.model}`),
      );
      expect(models.size).toBeGreaterThan(1);
      expect(models.size).toBeLessThan(10);
    }
  });

  it("lists each type's metric names as the contract names them", () => {
    const [medical, weather, fan, canonical] = simulatedDevices(4);
    expect(deviceMetricNames(medical)).toEqual([
      "temperature",
      "pulse",
      "oxygen_percent",
      "systolic",
      "diastolic",
    ]);
    expect(deviceMetricNames(weather)).toEqual(["temp", "hum", "wind", "vib"]);
    expect(deviceMetricNames(fan)).toEqual(["FREQ", "RPM"]);
    expect(deviceMetricNames(canonical)).toEqual(["temperature", "vibration", "pressure", "current"]);
  });

  it("rejects bad counts and types with a named error", () => {
    expect(() => simulatedDevices(-1)).toThrow(InvalidSimulationOptionError);
    expect(() => simulatedDevices(1.5)).toThrow(InvalidSimulationOptionError);
    expect(() => parseDeviceTypes("medical,toaster")).toThrow(/unknown device type "toaster"/);
    expect(() => parseDeviceTypes(" , ")).toThrow(InvalidSimulationOptionError);
    expect(parseDeviceTypes("fan, medical,fan")).toEqual(["fan", "medical"]);
  });
});
