import type { Device } from "@driftwatch/core/telemetry/device";
import type { DeviceRegistry, DeviceRegistryWriter } from "@driftwatch/core/ports/device-registry";

/**
 * The registry as local mode's storage service holds it. The registry API (`/api/devices`) is no longer served
 * from here: local mode mounts the devices Lambda handler (packages/functions/src/http/devices.ts) instead.
 */
export interface DeviceStore extends DeviceRegistry, DeviceRegistryWriter {
  list(): Promise<Device[]>;
}
