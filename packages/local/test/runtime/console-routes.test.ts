import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalContext } from "../../src/runtime/context.ts";
import { registerConsoleRoutes } from "../../src/runtime/console-routes.ts";
import type { HttpRequest, HttpResponse, RouteHandler } from "../../src/runtime/http-router.ts";

/** The console's static files at `/` (packages/web/dist, here a temp dir through DRIFTWATCH_WEB_DIST). */
let dist: string;
let outside: string;
const saved = process.env.DRIFTWATCH_WEB_DIST;

function serve(): RouteHandler {
  const handlers = new Map<string, RouteHandler>();
  const context = {
    http: {
      add: (method: string, route: string, handler: RouteHandler) =>
        handlers.set(`${method} ${route}`, handler),
    },
    config: { host: "127.0.0.1", mqttPort: 1883, dataDir: "/tmp/dw" },
    status: { snapshot: () => ({ "mqtt.received": 3 }) },
  } as unknown as LocalContext;
  registerConsoleRoutes(context);
  expect([...handlers.keys()]).toEqual(["GET /", "GET /*"]);
  return handlers.get("GET /*")!;
}

const get = (handler: RouteHandler, p: string): Promise<HttpResponse> =>
  handler({ method: "GET", path: p, query: new URLSearchParams(), headers: {}, body: "" } as HttpRequest, {});
const text = (res: HttpResponse) => Buffer.from(res.body ?? "").toString("utf8");

beforeAll(() => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dw-web-"));
  dist = path.join(root, "dist");
  outside = path.join(root, "secret.txt");
  fs.mkdirSync(path.join(dist, "assets"), { recursive: true });
  fs.writeFileSync(path.join(dist, "index.html"), "<!doctype html><div id=root></div>");
  fs.writeFileSync(path.join(dist, "assets", "index-abc.js"), "console.log(1)");
  fs.writeFileSync(outside, "not for the browser");
  process.env.DRIFTWATCH_WEB_DIST = dist;
});

afterAll(() => {
  if (saved === undefined) delete process.env.DRIFTWATCH_WEB_DIST;
  else process.env.DRIFTWATCH_WEB_DIST = saved;
  fs.rmSync(path.dirname(dist), { recursive: true, force: true });
});

describe("console routes (local mode)", () => {
  it("serves index.html at / without caching, with security headers", async () => {
    const res = await get(serve(), "/");
    expect(res.status).toBe(200);
    expect(text(res)).toContain("<div id=root>");
    expect(res.headers).toMatchObject({
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
    });
  });

  it("serves built assets with their type and falls back to index.html for client routes", async () => {
    const handler = serve();
    const asset = await get(handler, "/assets/index-abc.js");
    expect(asset.status).toBe(200);
    expect(asset.headers?.["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(text(asset)).toBe("console.log(1)");
    const route = await get(handler, "/incidents");
    expect(route.status).toBe(200);
    expect(text(route)).toContain("<div id=root>");
  });

  it("answers 404 for a missing file and never serves a file outside the build", async () => {
    const handler = serve();
    expect((await get(handler, "/assets/missing.js")).status).toBe(404);
    for (const p of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"]) {
      const res = await get(handler, p);
      expect(text(res), p).not.toContain("not for the browser");
    }
    expect((await get(handler, "/%E0%A4%A")).status).toBe(400);
  });

  it("says how to build the console when packages/web/dist is missing", async () => {
    process.env.DRIFTWATCH_WEB_DIST = path.join(path.dirname(dist), "nowhere");
    try {
      const handler = serve();
      const res = await get(handler, "/");
      expect(res.status).toBe(200);
      expect(text(res)).toContain("npm run build");
      expect(text(res)).toContain("mqtt.received");
      expect((await get(handler, "/assets/index-abc.js")).status).toBe(404);
    } finally {
      process.env.DRIFTWATCH_WEB_DIST = dist;
    }
  });
});
