/**
 * The payloads exactly as the seeds publish them (field names, order, types). Naive timestamps (no offset)
 * are UTC, as the seeds' devices and Driftwatch's normalization read them.
 */

/** Seed 003 record. */
export interface MedicalPayload {
  timestamp: string;
  device_id: string;
  patient_id: string;
  name: string;
  dob: string;
  temperature: number;
  pulse: number;
  oxygen_percent: number;
  systolic: number;
  diastolic: number;
}

/** Seed 000 payload; the station, sensor type and sensor id travel in the topic. */
export interface WeatherPayload {
  value: number;
  /** -1, 0 or 1: the reading is below, at or above the smoothed value. */
  direction: number;
  smoothed: number;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** Seed 001 payload. */
export interface FanPayload {
  /** Python `datetime.isoformat()` of a naive datetime: `YYYY-MM-DDTHH:MM:SS[.ffffff]`. */
  TIME: string;
  FANID: string;
  FREQ: number;
  RPM: number;
}

/** Driftwatch's canonical payload on `dt/{site}/{deviceId}/telemetry`. */
export interface CanonicalPayload {
  deviceId: string;
  /** ISO 8601 UTC with milliseconds. */
  ts: string;
  metrics: Record<string, number>;
}

/** `2018-01-27T05:11:50` (seed 003): UTC, whole seconds, no offset. */
export function medicalTimestamp(tMs: number): string {
  return new Date(tMs).toISOString().slice(0, 19);
}

/** Python's `datetime.isoformat()` for a naive UTC datetime: microseconds, omitted when zero (as Python does). */
export function pythonIsoformat(tMs: number): string {
  const iso = new Date(tMs).toISOString();
  const millis = iso.slice(20, 23);
  return millis === "000" ? iso.slice(0, 19) : `${iso.slice(0, 19)}.${millis}000`;
}

export function medicalPayload(
  identity: { deviceId: string; patientId: string; name: string; dob: string },
  tMs: number,
  values: { temperature: number; pulse: number; oxygen_percent: number; systolic: number; diastolic: number },
): MedicalPayload {
  return {
    timestamp: medicalTimestamp(tMs),
    device_id: identity.deviceId,
    patient_id: identity.patientId,
    name: identity.name,
    dob: identity.dob,
    temperature: values.temperature,
    pulse: values.pulse,
    oxygen_percent: values.oxygen_percent,
    systolic: values.systolic,
    diastolic: values.diastolic,
  };
}

export function weatherPayload(
  value: number,
  smoothed: number,
  previousSmoothed: number,
  tMs: number,
): WeatherPayload {
  return { value, direction: Math.sign(value - previousSmoothed), smoothed, timestamp: tMs };
}

/**
 * Seed 001 fields; `RPM = FREQ / 2 * 60` (two tachometer pulses per revolution). The seed's script rounds both
 * from its unrounded frequency; here RPM is derived from the published FREQ, so the relation holds exactly.
 */
export function fanPayload(fanId: string, tMs: number, frequencyHz: number): FanPayload {
  const freq = Math.round(frequencyHz);
  return { TIME: pythonIsoformat(tMs), FANID: fanId, FREQ: freq, RPM: (freq / 2) * 60 };
}

export function canonicalPayload(
  deviceId: string,
  tMs: number,
  metrics: Record<string, number>,
): CanonicalPayload {
  return { deviceId, ts: new Date(tMs).toISOString(), metrics };
}
