import type { Device } from "../telemetry/device.ts";
import {
  allSimulatedDeviceTypes,
  canonicalTopic,
  FAN_TOPIC,
  MEDICAL_TOPIC,
  weatherSensorTypes,
  weatherTopic,
  type SimulatedDeviceType,
  type WeatherSensorType,
} from "./device-types.ts";
import { InvalidSimulationOptionError } from "./errors.ts";
import type { MetricModel } from "./metric-process.ts";
import { createPrng, hashSeed, type Prng } from "./prng.ts";

/**
 * The simulated fleet: ONE source of truth for the devices the simulator publishes as and the devices local
 * mode seeds into its registry. Identities (ids, sites, patients, stations) and each device's own normal levels
 * come from a fixed catalogue seed, not from the run's `--seed`: every run, and the registry, agree on who the
 * devices are; the run's seed only changes noise and anomalies.
 *
 * Device `k` of a type is always the same device, whatever else is asked for: `simulatedDevices(n)` interleaves
 * the types round-robin and is a prefix of `simulatedDevices(m)` for n ≤ m.
 */
export const SIMULATOR_CATALOGUE_SEED = 20_180_127;

/** Local mode seeds this many devices of each type into its registry (see `defaultSimulatedDevices`). */
export const DEFAULT_DEVICES_PER_TYPE = 50;

interface SimulatedDeviceBase {
  /** The registry id: `device_id` (medical), the station id (weather), `FANID` (fan), `deviceId` (canonical). */
  deviceId: string;
  type: SimulatedDeviceType;
  /** Position among the devices of its type (0-based); the same ordinal is always the same device. */
  ordinal: number;
  manufacturer: string;
  model: string;
  site: string;
  /** The underlying signals (one per metric; the fan's `FREQ` also drives `RPM`). */
  signals: Record<string, MetricModel>;
}

export interface MedicalSimulatedDevice extends SimulatedDeviceBase {
  type: "medical";
  topic: string;
  /** Synthetic patient, stable per device. PHI by Driftwatch's catalogue: exists in clear only in payloads. */
  patient: { patientId: string; name: string; dob: string };
}

export interface WeatherSimulatedDevice extends SimulatedDeviceBase {
  type: "weather";
  state: string;
  city: string;
  stationId: string;
  /** One sensor per type; the station publishes them in turn, one message per sensor reading. */
  sensors: { sensorType: WeatherSensorType; sensorId: string; topic: string }[];
}

export interface FanSimulatedDevice extends SimulatedDeviceBase {
  type: "fan";
  topic: string;
}

export interface CanonicalSimulatedDevice extends SimulatedDeviceBase {
  type: "canonical";
  topic: string;
}

export type SimulatedDevice =
  MedicalSimulatedDevice | WeatherSimulatedDevice | FanSimulatedDevice | CanonicalSimulatedDevice;

const FIRST_NAMES = [
  "Eugenia",
  "Marcus",
  "Aiko",
  "Tobias",
  "Priya",
  "Lena",
  "Omar",
  "Greta",
  "Mateo",
  "Hana",
  "Ingrid",
  "Samuel",
  "Noor",
  "Felix",
  "Rosa",
  "Kwame",
  "Elif",
  "Jonas",
  "Mira",
  "Diego",
  "Sofia",
  "Arjun",
  "Clara",
  "Yusuf",
  "Beatrix",
  "Liam",
  "Ayla",
  "Henrik",
  "Zara",
  "Emil",
];
const LAST_NAMES = [
  "Gottlieb",
  "Okafor",
  "Lindqvist",
  "Moreau",
  "Tanaka",
  "Castillo",
  "Novak",
  "Brennan",
  "Haddad",
  "Petrov",
  "Albers",
  "Mensah",
  "Iversen",
  "Rossi",
  "Kowalski",
  "Duarte",
  "Sato",
  "Whitfield",
  "Rahman",
  "Fischer",
  "Oyelaran",
  "Varga",
  "Delacroix",
  "Nakamura",
  "Quintero",
  "Halvorsen",
  "Abernathy",
  "Szabo",
  "Ferreira",
  "Lund",
];
const MEDICAL_SITES = ["st-olaf-icu", "st-olaf-ward-3", "riverside-icu", "riverside-cardio"];
const MEDICAL_MODELS = [
  { manufacturer: "Halvard Medical", model: "VitaLink 300" },
  { manufacturer: "Halvard Medical", model: "VitaLink 500" },
  { manufacturer: "Corvina Health", model: "BedSide M2" },
];

const WEATHER_CITIES = [
  { state: "wa", city: "seattle", meanTemp: 11 },
  { state: "or", city: "portland", meanTemp: 12 },
  { state: "ca", city: "san-francisco", meanTemp: 14 },
  { state: "co", city: "denver", meanTemp: 10 },
  { state: "tx", city: "austin", meanTemp: 21 },
  { state: "il", city: "chicago", meanTemp: 10 },
  { state: "ny", city: "new-york", meanTemp: 13 },
  { state: "fl", city: "miami", meanTemp: 25 },
];
const WEATHER_MODELS = [
  { manufacturer: "Nimbus Instruments", model: "WS-200" },
  { manufacturer: "Nimbus Instruments", model: "WS-400" },
];

const FAN_SITES = ["lab-1", "lab-2", "lab-3"];
const FAN_MODELS = [
  { manufacturer: "Aerolux", model: "CF-120", freq: 40 },
  { manufacturer: "Aerolux", model: "CF-140", freq: 50 },
];

const CANONICAL_SITES = ["plant-a", "plant-b", "plant-c"];
const CANONICAL_MODELS = [
  { manufacturer: "Tidewater Pumps", model: "TP-40", pressure: 4.0, current: 9 },
  { manufacturer: "Tidewater Pumps", model: "TP-75", pressure: 6.5, current: 15 },
];

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function alphanumericId(prng: Prng, length: number): string {
  let id = "";
  for (let i = 0; i < length; i++) id += ALPHANUMERIC[prng.int(0, ALPHANUMERIC.length - 1)];
  return id;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function identityPrng(type: SimulatedDeviceType, ordinal: number): Prng {
  return createPrng(hashSeed(SIMULATOR_CATALOGUE_SEED, type, ordinal));
}

function medicalDevice(ordinal: number): MedicalSimulatedDevice {
  const prng = identityPrng("medical", ordinal);
  const { manufacturer, model } = MEDICAL_MODELS[ordinal % MEDICAL_MODELS.length];
  // 7919 is prime and coprime with 9000: ordinals 0…8999 get distinct 4-digit patient numbers (0 → 2605, as the seed).
  const patientNumber = 1000 + ((ordinal * 7919 + 1605) % 9000);
  const year = prng.int(1935, 2004);
  const month = prng.int(1, 12);
  const day = prng.int(1, 28);
  return {
    deviceId: `device${8401 + ordinal}`,
    type: "medical",
    ordinal,
    manufacturer,
    model,
    site: MEDICAL_SITES[ordinal % MEDICAL_SITES.length],
    topic: MEDICAL_TOPIC,
    patient: {
      patientId: `patient${patientNumber}`,
      name: `${prng.pick(FIRST_NAMES)} ${prng.pick(LAST_NAMES)}`,
      dob: `${pad(month, 2)}/${pad(day, 2)}/${year}`,
    },
    // Seed 003 units: °F, beats/min, SpO2 %, mmHg.
    signals: {
      temperature: {
        base: 98.2 + prng.uniform(-0.4, 0.4),
        dailyAmplitude: 0.5,
        peakHourUtc: 18,
        wanderSigma: 0.2,
        wanderTauSeconds: 900,
        noiseSigma: 0.1,
        min: 90,
        max: 108,
        decimals: 1,
      },
      pulse: {
        base: prng.uniform(62, 84),
        dailyAmplitude: 5,
        peakHourUtc: 15,
        wanderSigma: 3,
        wanderTauSeconds: 120,
        noiseSigma: 1.5,
        min: 30,
        max: 200,
        decimals: 1,
      },
      oxygen_percent: {
        base: prng.uniform(95.5, 98),
        dailyAmplitude: 0.3,
        peakHourUtc: 14,
        wanderSigma: 0.5,
        wanderTauSeconds: 300,
        noiseSigma: 0.3,
        min: 70,
        max: 100,
        decimals: 1,
      },
      systolic: {
        base: prng.uniform(108, 132),
        dailyAmplitude: 7,
        peakHourUtc: 10,
        wanderSigma: 3,
        wanderTauSeconds: 600,
        noiseSigma: 2,
        min: 60,
        max: 220,
        decimals: 1,
      },
      diastolic: {
        base: prng.uniform(68, 84),
        dailyAmplitude: 4,
        peakHourUtc: 10,
        wanderSigma: 2,
        wanderTauSeconds: 600,
        noiseSigma: 1.5,
        min: 35,
        max: 140,
        decimals: 1,
      },
    },
  };
}

function weatherDevice(ordinal: number): WeatherSimulatedDevice {
  const prng = identityPrng("weather", ordinal);
  const place = WEATHER_CITIES[ordinal % WEATHER_CITIES.length];
  const { manufacturer, model } = WEATHER_MODELS[ordinal % WEATHER_MODELS.length];
  const stationId = alphanumericId(prng, 10);
  const sensors = weatherSensorTypes.map((sensorType) => {
    const sensorId = alphanumericId(prng, 10);
    return {
      sensorType,
      sensorId,
      topic: weatherTopic(place.state, place.city, stationId, sensorType, sensorId),
    };
  });
  return {
    deviceId: stationId,
    type: "weather",
    ordinal,
    manufacturer,
    model,
    site: `${place.state}-${place.city}`,
    state: place.state,
    city: place.city,
    stationId,
    sensors,
    // °C, % relative humidity, m/s, g (RMS vibration of the mast). Afternoon peak ≈ 22:00 UTC in the US.
    signals: {
      temp: {
        base: place.meanTemp + prng.uniform(-1, 1),
        dailyAmplitude: 5,
        peakHourUtc: 22,
        wanderSigma: 0.8,
        wanderTauSeconds: 3600,
        noiseSigma: 0.1,
        min: -50,
        max: 60,
      },
      hum: {
        base: prng.uniform(55, 75),
        dailyAmplitude: 12,
        peakHourUtc: 10,
        wanderSigma: 3,
        wanderTauSeconds: 1800,
        noiseSigma: 0.5,
        min: 0,
        max: 100,
      },
      wind: {
        base: prng.uniform(3, 6),
        dailyAmplitude: 1.5,
        peakHourUtc: 21,
        wanderSigma: 1.2,
        wanderTauSeconds: 300,
        noiseSigma: 0.4,
        min: 0,
        max: 70,
      },
      vib: {
        base: prng.uniform(0.5, 0.7),
        dailyAmplitude: 0.05,
        peakHourUtc: 21,
        wanderSigma: 0.05,
        wanderTauSeconds: 30,
        noiseSigma: 0.03,
        min: 0,
        max: 20,
      },
    },
  };
}

function fanDevice(ordinal: number): FanSimulatedDevice {
  const prng = identityPrng("fan", ordinal);
  const { manufacturer, model, freq } = FAN_MODELS[ordinal % FAN_MODELS.length];
  return {
    deviceId: `ABC${123456 + ordinal}`,
    type: "fan",
    ordinal,
    manufacturer,
    model,
    site: FAN_SITES[ordinal % FAN_SITES.length],
    topic: FAN_TOPIC,
    // Hz of the tachometer pulses (two per revolution), read in whole Hz as the seed does; RPM = FREQ / 2 * 60.
    signals: {
      FREQ: {
        base: freq + prng.uniform(-1, 1),
        dailyAmplitude: 0.8,
        peakHourUtc: 15,
        wanderSigma: 0.6,
        wanderTauSeconds: 60,
        noiseSigma: 0.3,
        min: 0,
        max: 200,
        decimals: 0,
      },
    },
  };
}

function canonicalDevice(ordinal: number): CanonicalSimulatedDevice {
  const prng = identityPrng("canonical", ordinal);
  const spec = CANONICAL_MODELS[ordinal % CANONICAL_MODELS.length];
  const deviceId = `pump-${pad(ordinal + 1, 4)}`;
  const site = CANONICAL_SITES[ordinal % CANONICAL_SITES.length];
  return {
    deviceId,
    type: "canonical",
    ordinal,
    manufacturer: spec.manufacturer,
    model: spec.model,
    site,
    topic: canonicalTopic(site, deviceId),
    // °C (bearing), mm/s RMS, bar, A.
    signals: {
      temperature: {
        base: prng.uniform(42, 48),
        dailyAmplitude: 3,
        peakHourUtc: 15,
        wanderSigma: 0.8,
        wanderTauSeconds: 600,
        noiseSigma: 0.2,
        min: -20,
        max: 150,
        decimals: 2,
      },
      vibration: {
        base: prng.uniform(2, 3),
        dailyAmplitude: 0.2,
        peakHourUtc: 15,
        wanderSigma: 0.25,
        wanderTauSeconds: 60,
        noiseSigma: 0.1,
        min: 0,
        max: 50,
        decimals: 3,
      },
      pressure: {
        base: spec.pressure + prng.uniform(-0.3, 0.3),
        dailyAmplitude: 0.3,
        peakHourUtc: 12,
        wanderSigma: 0.15,
        wanderTauSeconds: 120,
        noiseSigma: 0.05,
        min: 0,
        max: 25,
        decimals: 3,
      },
      current: {
        base: spec.current + prng.uniform(-0.5, 0.5),
        dailyAmplitude: 1,
        peakHourUtc: 12,
        wanderSigma: 0.4,
        wanderTauSeconds: 120,
        noiseSigma: 0.15,
        min: 0,
        max: 80,
        decimals: 2,
      },
    },
  };
}

/** Device `ordinal` of `type`: always the same device. */
export function simulatedDevice(type: SimulatedDeviceType, ordinal: number): SimulatedDevice {
  if (!Number.isInteger(ordinal) || ordinal < 0) {
    throw new InvalidSimulationOptionError(`device ordinal must be a non-negative integer`, {
      option: "ordinal",
    });
  }
  switch (type) {
    case "medical":
      return medicalDevice(ordinal);
    case "weather":
      return weatherDevice(ordinal);
    case "fan":
      return fanDevice(ordinal);
    case "canonical":
      return canonicalDevice(ordinal);
  }
}

/**
 * `count` devices of the given types, interleaved round-robin (medical 0, weather 0, fan 0, canonical 0,
 * medical 1, …). Device `i` is type `types[i % types.length]`, ordinal `floor(i / types.length)`.
 */
export function simulatedDevices(
  count: number,
  options: { types?: readonly SimulatedDeviceType[] } = {},
): SimulatedDevice[] {
  const types = options.types ?? allSimulatedDeviceTypes;
  if (!Number.isInteger(count) || count < 0) {
    throw new InvalidSimulationOptionError(`device count must be a non-negative integer, got ${count}`, {
      option: "devices",
    });
  }
  if (types.length === 0)
    throw new InvalidSimulationOptionError("no device types given", { option: "types" });
  const devices: SimulatedDevice[] = [];
  for (let i = 0; i < count; i++)
    devices.push(simulatedDevice(types[i % types.length], Math.floor(i / types.length)));
  return devices;
}

/** The devices local mode seeds into its registry: the first `DEFAULT_DEVICES_PER_TYPE` of every type. */
export function defaultSimulatedDevices(): SimulatedDevice[] {
  return simulatedDevices(DEFAULT_DEVICES_PER_TYPE * allSimulatedDeviceTypes.length);
}

/** True if local mode's default registry holds this device (so its readings are accepted without an import). */
export function isInDefaultRegistry(device: Pick<SimulatedDevice, "ordinal">): boolean {
  return device.ordinal < DEFAULT_DEVICES_PER_TYPE;
}

/** The registry entry (`devices import` format) of a simulated device. */
export function toRegistryDevice(device: SimulatedDevice): Device {
  return {
    deviceId: device.deviceId,
    manufacturer: device.manufacturer,
    model: device.model,
    site: device.site,
  };
}

/** The default registry seed in `devices import` format: what local mode's storage service writes at start. */
export function defaultRegistryDevices(): Device[] {
  return defaultSimulatedDevices().map(toRegistryDevice);
}

/** The metric names a device's readings carry (what lands in `Reading.metrics`). */
export function deviceMetricNames(device: SimulatedDevice): string[] {
  if (device.type === "fan") return ["FREQ", "RPM"];
  return Object.keys(device.signals);
}

/** Every MQTT topic the device publishes on. */
export function deviceTopics(device: SimulatedDevice): string[] {
  return device.type === "weather" ? device.sensors.map((sensor) => sensor.topic) : [device.topic];
}
