import type { Device } from "@driftwatch/core/telemetry/device";
import type { DeviceRegistry, DeviceRegistryWriter } from "@driftwatch/core/ports/device-registry";
import { json, type HttpRouter } from "../runtime/http-router.ts";
import { InvalidDeviceListError, parseDeviceList } from "./device-list.ts";

export interface DeviceStore extends DeviceRegistry, DeviceRegistryWriter {
  list(): Promise<Device[]>;
}

/**
 * The registry API of local mode (what `npx driftwatch devices import` talks to):
 * - `POST /api/devices` with `[{deviceId, manufacturer, model, site?}]` (or `{devices: [...]}`): validates the
 *   whole list first (400 with every issue, nothing written), then writes it in idempotent batches;
 * - `GET /api/devices`: every registered device; `GET /api/devices/:deviceId`: one, or 404.
 */
export function registerDeviceRoutes(
  http: HttpRouter,
  store: DeviceStore,
  onImported?: (deviceIds: readonly string[]) => void,
): void {
  http.add("POST", "/api/devices", async (req) => {
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return json(400, { error: "InvalidJson", message: "the request body is not JSON", issues: [] });
    }
    if (body !== null && typeof body === "object" && !Array.isArray(body) && "devices" in body) {
      body = (body as { devices: unknown }).devices;
    }
    let devices: Device[];
    try {
      devices = parseDeviceList(body);
    } catch (error) {
      if (!(error instanceof InvalidDeviceListError)) throw error;
      return json(400, { error: error.name, message: "invalid device list", issues: error.issues });
    }
    await store.putMany(devices);
    onImported?.(devices.map((d) => d.deviceId));
    return json(200, { imported: devices.length });
  });
  http.add("GET", "/api/devices", async () => {
    const devices = await store.list();
    devices.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    return json(200, { devices });
  });
  http.add("GET", "/api/devices/:deviceId", async (_req, params) => {
    const device = await store.get(params.deviceId);
    return device ? json(200, device) : json(404, { error: "NotFound", message: "no such device" });
  });
}
