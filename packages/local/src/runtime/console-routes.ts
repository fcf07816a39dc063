import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { escapeHtml } from "@driftwatch/functions/http/request";
import type { LocalContext } from "./context.ts";
import type { HttpRequest, HttpResponse } from "./http-router.ts";
import { statusSnapshot } from "./status-routes.ts";

/** The console's build output (packages/web/dist); `DRIFTWATCH_WEB_DIST` overrides it. */
export function webDistDir(): string {
  return (
    process.env.DRIFTWATCH_WEB_DIST ||
    path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../web/dist")
  );
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

function buildHint(context: LocalContext): HttpResponse {
  const { mqtt, dataDir, counters } = statusSnapshot(context);
  const rows = Object.entries(counters)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(String(value))}</td></tr>`)
    .join("");
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Driftwatch local</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}td{padding:.1rem 1rem .1rem 0}</style>
</head><body><h1>Driftwatch local mode</h1>
<p>MQTT <code>${escapeHtml(mqtt)}</code> · data <code>${escapeHtml(dataDir)}</code></p>
<p>The web console is not built in this checkout. Build it with <code>npm run build:web</code>
(<code>npm install</code> normally does), then reload this page. The API is under <code>/api</code>
(see docs/api.md; <code>npx driftwatch token --role operator</code> prints a token) and the CLI answers
<code>npx driftwatch --help</code>.</p>
<h2>Status</h2><table>${rows || "<tr><td>no traffic yet</td></tr>"}</table></body></html>`;
  return { status: 200, headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS }, body };
}

/**
 * `/` and the console's static files from packages/web/dist (read per request, so a rebuild shows on reload);
 * paths without a file fall back to `index.html` (the console's client-side routes). Without a build, `/` says
 * how to build it. Registered last: `/api`, `/ack` and `/local` routes match first.
 */
export function registerConsoleRoutes(context: LocalContext): void {
  const serve = async (req: HttpRequest): Promise<HttpResponse> => {
    const dist = webDistDir();
    const index = path.join(dist, "index.html");
    if (!fs.existsSync(index)) {
      if (req.path === "/" || req.path === "/index.html") return buildHint(context);
      return {
        status: 404,
        headers: { "content-type": "text/plain" },
        body: "not found (console not built)\n",
      };
    }
    let relative: string;
    try {
      relative = decodeURIComponent(req.path);
    } catch {
      return { status: 400, headers: { "content-type": "text/plain" }, body: "bad path\n" };
    }
    const file = path.resolve(dist, `.${path.posix.normalize(relative)}`);
    const inside = file === dist || file.startsWith(`${dist}${path.sep}`);
    let target = index;
    if (inside && fs.existsSync(file) && fs.statSync(file).isFile()) target = file;
    else if (path.extname(relative) !== "") {
      return { status: 404, headers: { "content-type": "text/plain" }, body: "not found\n" };
    }
    const ext = path.extname(target);
    return {
      status: 200,
      headers: {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": target === index ? "no-cache" : "public, max-age=3600",
        ...SECURITY_HEADERS,
      },
      body: fs.readFileSync(target),
    };
  };
  context.http.add("GET", "/", serve);
  context.http.add("GET", "/*", serve);
}
