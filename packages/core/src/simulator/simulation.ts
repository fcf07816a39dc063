import { DeviceAnomalyInjector } from "./anomaly-injector.ts";
import { validateAnomalyOptions, type AnomalyOptions } from "./anomaly-kind.ts";
import type { SimulatedDeviceType } from "./device-types.ts";
import { deviceMetricNames, type SimulatedDevice } from "./devices.ts";
import { InvalidSimulationOptionError } from "./errors.ts";
import type { GroundTruthLabel } from "./ground-truth.ts";
import { createMetricProcess, roundToModel, type MetricProcess } from "./metric-process.ts";
import { canonicalPayload, fanPayload, medicalPayload, weatherPayload } from "./payloads.ts";
import { createPrng, hashSeed } from "./prng.ts";

/** Weight of the newest reading in the weather station's on-board smoothing (exponential moving average). */
export const WEATHER_SMOOTHING_ALPHA = 0.2;

/** One MQTT message a simulated device sends. */
export interface SimulatedMessage {
  deviceId: string;
  deviceType: SimulatedDeviceType;
  topic: string;
  /** The JSON payload, exactly as published. */
  payload: string;
  /** Event time the payload carries, epoch ms (before the payload's own formatting, e.g. whole seconds). */
  eventTimeMs: number;
  /** The reading metrics the payload carries, by name, as published. */
  metrics: Record<string, number>;
}

export interface SimulationStep {
  /** Undefined when the device is in a dropout. */
  message?: SimulatedMessage;
  /** Anomalies that ended before this step (write them to the ground truth). */
  labels: GroundTruthLabel[];
}

export interface SimulationOptions {
  /** Seed of the run: noise and anomalies. Same seed, devices and times → same messages and labels. */
  seed: number;
  devices: readonly SimulatedDevice[];
  anomalies?: AnomalyOptions;
}

export interface Simulation {
  readonly devices: readonly SimulatedDevice[];
  /** The next message of device `deviceIndex` at event time `tMs` (per device, times must not decrease). */
  step(deviceIndex: number, tMs: number): SimulationStep;
  /** Ends the run: labels of anomalies still going on (`truncated`). */
  finish(): GroundTruthLabel[];
}

interface DeviceRuntime {
  device: SimulatedDevice;
  processes: Record<string, MetricProcess>;
  injector?: DeviceAnomalyInjector;
  tick: number;
  /** Weather: the station's smoothed value per sensor type. */
  smoothed: Record<string, number>;
}

function metricsOf(device: SimulatedDevice, signal: string): string[] {
  return device.type === "fan" && signal === "FREQ" ? ["FREQ", "RPM"] : [signal];
}

function createRuntime(device: SimulatedDevice, options: SimulationOptions): DeviceRuntime {
  const processes: Record<string, MetricProcess> = {};
  for (const [signal, model] of Object.entries(device.signals)) {
    processes[signal] = createMetricProcess(
      model,
      createPrng(hashSeed(options.seed, device.deviceId, "signal", signal)),
    );
  }
  const anomalies = options.anomalies;
  const injector =
    anomalies && anomalies.kinds.length > 0 && anomalies.rate > 0
      ? new DeviceAnomalyInjector(
          {
            deviceId: device.deviceId,
            deviceType: device.type,
            signals: device.signals,
            metricsOf: (signal) => metricsOf(device, signal),
            allMetrics: deviceMetricNames(device),
          },
          anomalies,
          createPrng(hashSeed(options.seed, device.deviceId, "anomalies")),
        )
      : undefined;
  return { device, processes, injector, tick: 0, smoothed: {} };
}

/** The signals a device's next message carries: a weather station sends one sensor per message, in turn. */
function emittedSignals(runtime: DeviceRuntime): string[] {
  const { device } = runtime;
  if (device.type === "weather") return [device.sensors[runtime.tick % device.sensors.length].sensorType];
  return Object.keys(device.signals);
}

function render(runtime: DeviceRuntime, tMs: number, values: Record<string, number>): SimulatedMessage {
  const { device } = runtime;
  const base = { deviceId: device.deviceId, deviceType: device.type, eventTimeMs: tMs };
  switch (device.type) {
    case "medical": {
      const payload = medicalPayload(
        { deviceId: device.deviceId, ...device.patient },
        tMs,
        values as Parameters<typeof medicalPayload>[2],
      );
      const { temperature, pulse, oxygen_percent, systolic, diastolic } = payload;
      return {
        ...base,
        topic: device.topic,
        payload: JSON.stringify(payload),
        metrics: { temperature, pulse, oxygen_percent, systolic, diastolic },
      };
    }
    case "weather": {
      const [sensorType, value] = Object.entries(values)[0];
      const sensor = device.sensors.find((candidate) => candidate.sensorType === sensorType)!;
      const previous = runtime.smoothed[sensorType] ?? value;
      const smoothed =
        sensorType in runtime.smoothed
          ? WEATHER_SMOOTHING_ALPHA * value + (1 - WEATHER_SMOOTHING_ALPHA) * previous
          : value;
      runtime.smoothed[sensorType] = smoothed;
      return {
        ...base,
        topic: sensor.topic,
        payload: JSON.stringify(weatherPayload(value, smoothed, previous, tMs)),
        metrics: { [sensorType]: value },
      };
    }
    case "fan": {
      const payload = fanPayload(device.deviceId, tMs, values.FREQ);
      return {
        ...base,
        topic: device.topic,
        payload: JSON.stringify(payload),
        metrics: { FREQ: payload.FREQ, RPM: payload.RPM },
      };
    }
    case "canonical":
      return {
        ...base,
        topic: device.topic,
        payload: JSON.stringify(canonicalPayload(device.deviceId, tMs, values)),
        metrics: { ...values },
      };
  }
}

/**
 * A deterministic simulation of a fleet. Pure: it does not read the clock or publish anything; the caller
 * (the `simulate` command, benchmarks, tests) decides when each device sends and what event time it carries.
 */
export function createSimulation(options: SimulationOptions): Simulation {
  if (!Number.isFinite(options.seed)) {
    throw new InvalidSimulationOptionError("seed must be a finite number", { option: "seed" });
  }
  if (options.anomalies) validateAnomalyOptions(options.anomalies);
  const ids = new Set<string>();
  for (const device of options.devices) {
    if (ids.has(device.deviceId)) {
      throw new InvalidSimulationOptionError(`device ${device.deviceId} is listed twice`, {
        option: "devices",
      });
    }
    ids.add(device.deviceId);
  }
  const runtimes = options.devices.map((device) => createRuntime(device, options));
  return {
    devices: options.devices,
    step(deviceIndex, tMs) {
      const runtime = runtimes[deviceIndex];
      if (runtime === undefined) throw new RangeError(`no device at index ${deviceIndex}`);
      const signals = emittedSignals(runtime);
      const gate = runtime.injector?.begin(tMs, signals) ?? { labels: [], suppress: false };
      // Healthy values are drawn even during a dropout, so the rest of the run does not depend on injection.
      const values: Record<string, number> = {};
      for (const signal of signals) {
        const healthy = runtime.processes[signal].sample(tMs);
        const published = runtime.injector ? runtime.injector.apply(signal, healthy, tMs) : healthy;
        values[signal] = roundToModel(runtime.device.signals[signal], published);
      }
      runtime.tick++;
      if (gate.suppress) {
        // The station keeps smoothing while its uplink is down.
        if (runtime.device.type === "weather") render(runtime, tMs, values);
        return { labels: gate.labels };
      }
      return { message: render(runtime, tMs, values), labels: gate.labels };
    },
    finish() {
      return runtimes.flatMap((runtime) => runtime.injector?.finish() ?? []);
    },
  };
}
