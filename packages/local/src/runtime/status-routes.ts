import type { LocalContext } from "./context.ts";
import { json } from "./http-router.ts";

/**
 * `GET /api/status`: the status board as JSON (local mode only; the console shows it when present). The page at
 * `/` is the console (`console-routes.ts`), or a page saying how to build it, with these counters.
 */
export function statusSnapshot(context: LocalContext) {
  return {
    mqtt: `mqtt://${context.config.host}:${context.config.mqttPort}`,
    dataDir: context.config.dataDir,
    counters: context.status.snapshot(),
  };
}

export function registerStatusRoutes(context: LocalContext): void {
  context.http.add("GET", "/api/status", async () => json(200, statusSnapshot(context)));
}
