/**
 * Polling intervals of the live views (ADR 0801). TanStack Query pauses interval refetches in background tabs.
 * - LIVE_MS: incidents (list, detail, counters) and a device's windows, which change within seconds.
 * - FLEET_MS: the device list (last seen, open incidents per device). One `GET /api/devices` reads every device's
 *   newest window, so it is the API's most expensive read; last seen moves once per window (60 s by default).
 */
export const LIVE_MS = 5_000;
export const FLEET_MS = 15_000;
