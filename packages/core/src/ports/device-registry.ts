import type { Device } from "../telemetry/device.ts";

/** Looks devices up by id (DynamoDB on AWS, dynalite locally; cached by core's `CachedRegistry`). */
export interface DeviceRegistry {
  get(deviceId: string): Promise<Device | undefined>;
}

/** Writes to the registry (import). Idempotent: putting the same device twice changes nothing. */
export interface DeviceRegistryWriter {
  putMany(devices: readonly Device[]): Promise<void>;
}
