import type { DeviceRegistry, DeviceRegistryWriter } from "../src/ports/device-registry.ts";
import { deviceSchema, type Device } from "../src/telemetry/device.ts";

/** A device registry in memory (test double; benchmarks use it too). */
export class InMemoryDeviceRegistry implements DeviceRegistry, DeviceRegistryWriter {
  private readonly devices = new Map<string, Device>();
  /** Number of `get` calls (to observe caching). */
  lookups = 0;

  constructor(devices: readonly Device[] = []) {
    for (const device of devices) this.devices.set(device.deviceId, deviceSchema.parse(device));
  }

  async get(deviceId: string): Promise<Device | undefined> {
    this.lookups++;
    return this.devices.get(deviceId);
  }

  async putMany(devices: readonly Device[]): Promise<void> {
    for (const device of devices) this.devices.set(device.deviceId, deviceSchema.parse(device));
  }
}
