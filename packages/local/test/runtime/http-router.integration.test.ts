import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpRouter, json } from "../../src/runtime/http-router.ts";

/** Sends a raw request line (fetch would normalize the URL) and returns the status code. */
function rawGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

let router: HttpRouter | undefined;
afterEach(async () => {
  await router?.close();
  router = undefined;
});

describe("local HTTP router", () => {
  it("survives malformed paths and failing handlers: 400/500 without details, and keeps serving", async () => {
    // Regression: `GET /api/incidents/%E0%A4%A` threw URIError outside the handler's try and the unhandled
    // rejection took the whole local runtime down.
    router = new HttpRouter();
    router.add("GET", "/api/items/:id", async (_req, params) => json(200, { id: params.id }));
    router.add("GET", "/boom", async () => {
      throw new Error("secret detail");
    });
    const port = ((await router.listen(0, "127.0.0.1")).address() as AddressInfo).port;

    expect(await rawGet(port, "/api/items/%E0%A4%A")).toBe(400);
    expect(await rawGet(port, "//")).toBeLessThan(500);
    const boom = await fetch(`http://127.0.0.1:${port}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain("secret detail");
    const ok = await fetch(`http://127.0.0.1:${port}/api/items/a%20b`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: "a b" });
  });
});
