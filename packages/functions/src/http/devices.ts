import { z } from "zod";
import { mapBounded } from "@driftwatch/core/shared/map-bounded";
import { deviceListSchema, deviceSchema, type Device } from "@driftwatch/core/telemetry/device";
import { effectiveSettings } from "@driftwatch/core/thresholds/effective-settings";
import { scopeKeysOf } from "@driftwatch/core/thresholds/threshold-rule";
import { createAuthenticator, verifierFromEnv, type Authenticator } from "./shared/auth.ts";
import { awsDeps, type ApiDeps, type ApiDepsProvider } from "./shared/deps.ts";
import {
  BadRequestError,
  createHttpApi,
  parseInput,
  pathParam,
  NotFoundError,
  reply,
} from "./shared/http-api.ts";

type DevicesDeps = ApiDepsProvider<"devices" | "catalog" | "incidents" | "thresholds" | "defaults">;

const listQuerySchema = z
  .object({
    search: z.string().max(200).optional(),
    site: z.string().max(128).optional(),
    manufacturer: z.string().max(128).optional(),
    model: z.string().max(128).optional(),
  })
  .strict();

/** `POST /api/devices` body: the registry list (strict: unknown attributes are refused by name). */
const importSchema = z.array(deviceSchema.strict()).max(10_000);

const LAST_SEEN_CONCURRENCY = 8;

/** The fleet view of a device: registry attributes, last seen, open incidents. */
export interface DeviceView extends Device {
  lastSeen?: string;
  openIncidents: number;
}

async function openIncidentCounts(deps: Pick<ApiDeps, "incidents">): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const incident of await deps.incidents.list({ limit: 10_000 })) {
    if (incident.state === "resolved") continue;
    counts.set(incident.deviceId, (counts.get(incident.deviceId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Devices API: `GET /api/devices?search=&site=&manufacturer=&model=`, `POST /api/devices` (operators: registry
 * import, idempotent), `GET /api/devices/{deviceId}`, `GET /api/devices/{deviceId}/thresholds` (effective settings
 * with the scope of each value).
 */
export function createDevicesHandler(getDeps: DevicesDeps, authenticate: Authenticator) {
  const view = async (deps: Pick<ApiDeps, "catalog">, device: Device, open: Map<string, number>) => {
    const lastSeen = await deps.catalog.lastSeen(device.deviceId);
    return { ...device, ...(lastSeen ? { lastSeen } : {}), openIncidents: open.get(device.deviceId) ?? 0 };
  };
  const getDevice = async (deps: Pick<ApiDeps, "devices">, deviceId: string) => {
    const device = await deps.devices.get(deviceId);
    if (!device) throw new NotFoundError(`device ${deviceId} is not registered`);
    return device;
  };
  return createHttpApi(
    [
      {
        method: "GET",
        path: "/api/devices",
        handler: async ({ query }) => {
          const filter = parseInput(listQuerySchema, query);
          const deps = await getDeps();
          const needle = filter.search?.toLowerCase();
          const devices = (await deps.catalog.list()).filter(
            (d) =>
              (!filter.site || d.site === filter.site) &&
              (!filter.manufacturer || d.manufacturer === filter.manufacturer) &&
              (!filter.model || d.model === filter.model) &&
              (!needle ||
                [d.deviceId, d.manufacturer, d.model, d.site ?? ""].some((v) =>
                  v.toLowerCase().includes(needle),
                )),
          );
          const open = await openIncidentCounts(deps);
          // One "last seen" query per device, a few at a time: a fleet of hundreds must not open hundreds of
          // requests at once (throttling on AWS, timeouts on the local stand-in).
          return reply(200, await mapBounded(devices, LAST_SEEN_CONCURRENCY, (d) => view(deps, d, open)));
        },
      },
      {
        method: "POST",
        path: "/api/devices",
        handler: async ({ body }) => {
          if (body === undefined)
            throw new BadRequestError("body is required: [{deviceId, manufacturer, model, site?}]");
          const devices = parseInput(importSchema, body);
          const byId = new Map<string, Device>();
          devices.forEach((device, index) => {
            const seen = byId.get(device.deviceId);
            if (seen && JSON.stringify(seen) !== JSON.stringify(device)) {
              throw new BadRequestError(
                `[${index}].deviceId repeats an earlier entry with different attributes`,
                {
                  issues: [{ path: `[${index}].deviceId`, message: "repeated with different attributes" }],
                },
              );
            }
            byId.set(device.deviceId, device);
          });
          parseInput(deviceListSchema, [...byId.values()]);
          const deps = await getDeps();
          await deps.devices.putMany([...byId.values()]);
          deps.onDevicesImported?.([...byId.keys()]);
          return reply(200, { imported: byId.size });
        },
      },
      {
        method: "GET",
        path: "/api/devices/{deviceId}",
        handler: async ({ params }) => {
          const deps = await getDeps();
          const device = await getDevice(deps, pathParam(params, "deviceId"));
          return reply(200, await view(deps, device, await openIncidentCounts(deps)));
        },
      },
      {
        method: "GET",
        path: "/api/devices/{deviceId}/thresholds",
        handler: async ({ params }) => {
          const deps = await getDeps();
          const device = await getDevice(deps, pathParam(params, "deviceId"));
          const rules = await deps.thresholds.getMany(scopeKeysOf(device));
          return reply(200, effectiveSettings(device, rules, deps.defaults));
        },
      },
    ],
    authenticate,
  );
}

export const handler = createDevicesHandler(
  awsDeps("devices", "catalog", "incidents", "thresholds", "defaults"),
  createAuthenticator(verifierFromEnv),
);
