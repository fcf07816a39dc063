import { api } from "./api.ts";
import { FLEET_MS, LIVE_MS } from "./live.ts";

/** Only the filters that are set: `{state: ""}` and `{}` are the same request, so they share one cache entry. */
export function compact<T extends Record<string, string | undefined>>(filters: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(filters).filter(([, v]) => v !== undefined && v !== ""),
  ) as Partial<T>;
}

export type DeviceFilters = { search?: string; site?: string; manufacturer?: string; model?: string };
export type IncidentFilters = { state?: string; deviceId?: string; rule?: string };

/**
 * The live lists, polled every LIVE_MS (incidents) or FLEET_MS (devices) (ADR 0801). Every view asks through these, so the header counters, the
 * fleet and the thresholds page share one `GET /api/devices` per interval instead of one each.
 */
export const devicesQuery = (filters: DeviceFilters = {}) => {
  const set = compact(filters);
  return {
    queryKey: ["devices", set] as const,
    queryFn: () => api.devices(set),
    refetchInterval: FLEET_MS,
  };
};

export const incidentsQuery = (filters: IncidentFilters = {}) => {
  const set = compact(filters);
  return {
    queryKey: ["incidents", set] as const,
    queryFn: () => api.incidents(set),
    refetchInterval: LIVE_MS,
  };
};
