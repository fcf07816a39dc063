import { z } from "zod";
import {
  DEFAULT_ANOMALY_RATE,
  parseAnomalyKinds,
  allAnomalyKinds,
} from "@driftwatch/core/simulator/anomaly-kind";
import { allSimulatedDeviceTypes, parseDeviceTypes } from "@driftwatch/core/simulator/device-types";
import { InvalidSimulationOptionError } from "@driftwatch/core/simulator/errors";
import { LOCAL_STAGE } from "@driftwatch/core/telemetry/basic-ingest";
import type { RunSimulationOptions } from "./run-simulation.ts";

/** `simulate` options as commander hands them over (strings, flags). */
export interface RawSimulateOptions {
  rate?: string;
  devices?: string;
  clients?: string;
  duration?: string;
  count?: string;
  types?: string;
  mqtt?: string;
  seed?: string;
  anomalies?: string;
  anomalyRate?: string;
  groundTruth?: string;
  qos?: string;
  /** `--basic-ingest [stage]`: true (flag alone, stage `local`) or the stage whose rule names to publish to. */
  basicIngest?: string | boolean;
  exportDevices?: string;
  register?: boolean;
  http?: string;
  progress?: boolean;
  json?: boolean;
}

export const DEFAULT_RATE = 10;
export const DEFAULT_DEVICES = 20;
/** Default cap on connections: more devices than this share connections, as devices behind a gateway do. */
export const DEFAULT_MAX_CLIENTS = 100;

export interface SimulateCommandOptions {
  run: Omit<RunSimulationOptions, "devices" | "signal" | "onProgress" | "onPublish" | "onLabel"> & {
    clients: number;
  };
  deviceCount: number;
  types: ReturnType<typeof parseDeviceTypes>;
  exportDevices?: string;
  register: boolean;
  httpUrl: string;
  progress: boolean;
  json: boolean;
}

function numberOption(name: string, raw: string | undefined, schema: z.ZodNumber): number | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim() === "" ? Number.NaN : Number(raw);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidSimulationOptionError(
      `--${name} ${parsed.error.issues[0].message.toLowerCase()}, got "${raw}"`,
      {
        option: name,
      },
    );
  }
  return parsed.data;
}

const positive = z
  .number({ invalid_type_error: "must be a number" })
  .finite("must be a number")
  .positive("must be > 0");
const positiveInt = z
  .number()
  .finite("must be a whole number")
  .int("must be a whole number")
  .positive("must be >= 1");
const nonNegativeInt = z
  .number()
  .finite("must be a whole number")
  .int("must be a whole number")
  .min(0, "must be >= 0");
const nonNegative = z.number().finite("must be a number").min(0, "must be >= 0");
const probability = z
  .number()
  .finite("must be a number")
  .min(0, "must be in [0, 1]")
  .max(1, "must be in [0, 1]");
const integer = z.number().finite("must be a whole number").int("must be a whole number");

/** Validates and defaults the `simulate` options; every message names the option and says what is wrong. */
export function parseSimulateOptions(
  raw: RawSimulateOptions,
  defaults: { mqttUrl: string; httpUrl: string },
): SimulateCommandOptions {
  const rate = numberOption("rate", raw.rate, positive) ?? DEFAULT_RATE;
  const deviceCount = numberOption("devices", raw.devices, positiveInt) ?? DEFAULT_DEVICES;
  const clients =
    numberOption("clients", raw.clients, positiveInt) ?? Math.min(deviceCount, DEFAULT_MAX_CLIENTS);
  if (clients > deviceCount) {
    throw new InvalidSimulationOptionError(
      `--clients (${clients}) cannot exceed --devices (${deviceCount})`,
      {
        option: "clients",
      },
    );
  }
  if (raw.duration !== undefined && raw.count !== undefined) {
    throw new InvalidSimulationOptionError("give --duration or --count, not both", { option: "duration" });
  }
  const durationSeconds = numberOption("duration", raw.duration, nonNegative);
  const count = numberOption("count", raw.count, nonNegativeInt);
  const types = parseDeviceTypes(raw.types ?? allSimulatedDeviceTypes.join(","));
  const seed = numberOption("seed", raw.seed, integer) ?? 1;
  const anomalyRate = numberOption("anomaly-rate", raw.anomalyRate, probability);
  const kinds =
    raw.anomalies !== undefined
      ? parseAnomalyKinds(raw.anomalies)
      : anomalyRate !== undefined
        ? [...allAnomalyKinds]
        : [];
  const qosValue = numberOption("qos", raw.qos, integer) ?? 1;
  if (qosValue !== 0 && qosValue !== 1) {
    throw new InvalidSimulationOptionError(`--qos must be 0 or 1, got "${raw.qos}"`, { option: "qos" });
  }
  const mqttUrl = raw.mqtt ?? defaults.mqttUrl;
  let protocol: string;
  try {
    protocol = new URL(mqttUrl).protocol;
  } catch (error) {
    throw new InvalidSimulationOptionError(
      `--mqtt must be a URL like mqtt://127.0.0.1:1883, got "${mqttUrl}"`,
      {
        option: "mqtt",
        cause: error,
      },
    );
  }
  if (!["mqtt:", "tcp:", "mqtts:", "ws:", "wss:"].includes(protocol)) {
    throw new InvalidSimulationOptionError(`--mqtt must be an mqtt:// URL, got "${mqttUrl}"`, {
      option: "mqtt",
    });
  }
  const basicIngestStage =
    raw.basicIngest === undefined || raw.basicIngest === false
      ? undefined
      : raw.basicIngest === true
        ? LOCAL_STAGE
        : raw.basicIngest;
  if (basicIngestStage !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(basicIngestStage)) {
    throw new InvalidSimulationOptionError(
      `--basic-ingest takes a stage name (letters, digits, - and _), got "${basicIngestStage}"`,
      { option: "basic-ingest" },
    );
  }
  if (raw.groundTruth !== undefined && kinds.length === 0) {
    throw new InvalidSimulationOptionError("--ground-truth needs --anomalies (nothing would be labelled)", {
      option: "ground-truth",
    });
  }
  return {
    run: {
      mqttUrl,
      rate,
      clients,
      durationSeconds,
      count,
      seed,
      anomalies: kinds.length > 0 ? { kinds, rate: anomalyRate ?? DEFAULT_ANOMALY_RATE } : undefined,
      qos: qosValue,
      basicIngestStage,
      groundTruthFile: raw.groundTruth,
    },
    deviceCount,
    types,
    exportDevices: raw.exportDevices,
    register: raw.register === true,
    httpUrl: (raw.http ?? defaults.httpUrl).replace(/\/+$/, ""),
    progress: raw.progress !== false,
    json: raw.json === true,
  };
}
