import type { DeviceRegistry, DeviceRegistryWriter } from "../ports/device-registry.ts";
import { deviceSchema, type Device } from "./device.ts";

/** A device registry in memory: tests, benchmarks, and anything that does not need persistence. */
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
