import { escapeHtml } from "@driftwatch/functions/http/request";
import type { LocalContext } from "./context.ts";
import { json } from "./http-router.ts";

/** What a person or a script can reach on the local HTTP port (listed on the page at `/`). */
const endpoints: { method: string; path: string; what: string }[] = [
  { method: "GET", path: "/api/status", what: "counters of the running instance (JSON)" },
  { method: "GET", path: "/api/devices", what: "registered devices" },
  { method: "POST", path: "/api/devices", what: "register devices (`npx driftwatch devices import`)" },
  { method: "GET", path: "/api/metrics?deviceId=…", what: "window aggregates (`npx driftwatch metrics`)" },
  { method: "GET", path: "/api/thresholds", what: "threshold rules; PUT/DELETE /api/thresholds/:scope" },
  { method: "GET", path: "/api/incidents", what: "incidents (`npx driftwatch incidents`)" },
  { method: "GET", path: "/ack?token=…", what: "acknowledgement links from the outbox" },
];

/**
 * `GET /api/status` (the status board as JSON) and `GET /`, a plain page with the same counters and the endpoints
 * above. The web console proper (packages/web) is not built yet; until it is, `/` says so instead of answering 404.
 */
export function registerStatusRoutes(context: LocalContext): void {
  const status = () => ({
    mqtt: `mqtt://${context.config.host}:${context.config.mqttPort}`,
    dataDir: context.config.dataDir,
    counters: context.status.snapshot(),
  });
  context.http.add("GET", "/api/status", async () => json(200, status()));
  context.http.add("GET", "/", async () => {
    const { mqtt, dataDir, counters } = status();
    const rows = Object.entries(counters)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(String(value))}</td></tr>`)
      .join("");
    const links = endpoints
      .map((e) => `<li><code>${e.method} ${escapeHtml(e.path)}</code>: ${escapeHtml(e.what)}</li>`)
      .join("");
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Driftwatch local</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}td{padding:.1rem 1rem .1rem 0}</style>
</head><body><h1>Driftwatch local mode</h1>
<p>MQTT <code>${escapeHtml(mqtt)}</code> · data <code>${escapeHtml(dataDir)}</code></p>
<p>The web console is not part of this build yet; the API and the CLI (<code>npx driftwatch --help</code>) are.</p>
<h2>Status</h2><table>${rows || "<tr><td>no traffic yet</td></tr>"}</table>
<h2>Endpoints</h2><ul>${links}</ul></body></html>`;
    return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body };
  });
}
