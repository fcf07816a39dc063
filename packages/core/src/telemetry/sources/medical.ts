import { z } from "zod";
import { eventTimeMs, eventTimeSchema } from "../event-time.ts";
import { fieldKeyedSource } from "./field-keyed-source.ts";
import { deviceIdSchema, isDeviceId, isZodNumber, type FastParse } from "./payload-source.ts";

/** The five measurements of seed 003's life-support device; the seed's field names are the metric names. */
export const medicalMetricNames = [
  "temperature",
  "pulse",
  "oxygen_percent",
  "systolic",
  "diastolic",
] as const;

/**
 * Seed 003's record on `LifeSupportDevice/Sensor`. `patient_id`, `name` and `dob` are PHI: they are not part of
 * this schema (the de-identifier handles catalogued fields for every shape) and never reach a reading in clear.
 */
export const medicalPayloadSchema = z.object({
  device_id: deviceIdSchema,
  timestamp: eventTimeSchema,
  temperature: z.number(),
  pulse: z.number(),
  oxygen_percent: z.number(),
  systolic: z.number(),
  diastolic: z.number(),
});
export type MedicalPayload = z.infer<typeof medicalPayloadSchema>;

/** `medicalPayloadSchema` for well-formed payloads, without zod (same output, or undefined: zod decides). */
export const fastMedicalPayload: FastParse<MedicalPayload> = (payload) => {
  const { device_id, temperature, pulse, oxygen_percent, systolic, diastolic } = payload;
  if (
    !isDeviceId(device_id) ||
    !isZodNumber(temperature) ||
    !isZodNumber(pulse) ||
    !isZodNumber(oxygen_percent) ||
    !isZodNumber(systolic) ||
    !isZodNumber(diastolic)
  )
    return undefined;
  const timestamp = eventTimeMs(payload.timestamp);
  if (timestamp === undefined) return undefined;
  return { device_id, timestamp, temperature, pulse, oxygen_percent, systolic, diastolic };
};

export const medicalSource = fieldKeyedSource({
  source: "medical",
  topicFilter: "LifeSupportDevice/Sensor",
  deviceIdField: "device_id",
  schema: medicalPayloadSchema,
  fast: fastMedicalPayload,
  toReading: (parsed) => {
    const metrics: Record<string, number> = {};
    for (const name of medicalMetricNames) metrics[name] = parsed[name];
    return { deviceId: parsed.device_id, tsMs: parsed.timestamp, metrics };
  },
});
