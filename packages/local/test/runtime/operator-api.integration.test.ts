import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalIdentity } from "../../src/runtime/local-identity.ts";
import {
  connectMqtt,
  endMqtt,
  publish,
  runCli,
  startLocalInstance,
  type LocalInstance,
} from "../helpers/local-instance.ts";

/**
 * Issue 9's "Done when" in local mode, as a new user would do it (`driftwatch start` as a child process, the CLI,
 * plain HTTP): 401 without a token, 403 for a viewer's write, 400 naming an unknown field, a bound stored with
 * `thresholds set` and shown with its scope in the device's effective settings, and a reading beyond it opening a
 * `bound:<metric>:<side>` incident. Also: `/local/session` only for this machine's own console, the old local-only
 * routes gone, incident filters applied.
 */
const deviceId = "pump-7";
let instance: LocalInstance;
let env: Record<string, string>;
let url: string;

const call = (route: string, token?: string, init: RequestInit = {}) =>
  fetch(`${url}${route}`, {
    ...init,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(init.headers ?? {}),
    },
  });

async function cliToken(role: "operator" | "viewer", user: string): Promise<string> {
  const result = await runCli(["token", "--role", role, "--user", user], env);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

beforeAll(async () => {
  instance = await startLocalInstance({
    env: {
      DRIFTWATCH_WINDOW_SECONDS: "2",
      DRIFTWATCH_SILENCE_WINDOWS: "0",
      DRIFTWATCH_ACK_TIMEOUT_SECONDS: "600",
    },
  });
  url = `http://127.0.0.1:${instance.httpPort}`;
  env = { HTTP_PORT: String(instance.httpPort), DRIFTWATCH_DATA_DIR: instance.dataDir, USER: "cli-olga" };
}, 180_000);

afterAll(async () => {
  await instance?.stop();
});

describe("operator API in local mode", () => {
  it("401 without a token or with a bad or expired one; the body names no internals", async () => {
    const none = await call("/api/thresholds");
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({
      error: "Unauthorized",
      message: expect.stringMatching(/Authorization/),
    });
    expect((await call("/api/thresholds", "not-a-jwt")).status).toBe(401);
    const identity = await loadLocalIdentity(path.join(instance.dataDir, "keys"), { create: false });
    const expired = (await identity.sign({ user: "old", role: "operator", ttlSeconds: -120 })).token;
    const res = await call("/api/thresholds", expired);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/expired/);
  });

  it("gives the local session only to this machine's own console", async () => {
    const session = await call("/local/session");
    expect(session.status).toBe(200);
    const body = (await session.json()) as { token: string; role: string; user: string };
    expect(body.role).toBe("operator");
    expect((await call("/api/me", body.token)).status).toBe(200);
    expect(
      (await call("/local/session", undefined, { headers: { "sec-fetch-site": "cross-site" } })).status,
    ).toBe(403);
  });

  it("403 for a viewer's write; 400 naming an unknown field; the old local-only routes are gone", async () => {
    const viewer = await cliToken("viewer", "vera");
    expect(await (await call("/api/me", viewer)).json()).toEqual({ user: "vera", role: "viewer" });
    const denied = await call(`/api/thresholds/devices/${deviceId}`, viewer, {
      method: "PUT",
      body: JSON.stringify({ bounds: { pressure: { max: 5 } } }),
    });
    expect(denied.status).toBe(403);

    const operator = await cliToken("operator", "olga");
    const bad = await call(`/api/thresholds/devices/${deviceId}`, operator, {
      method: "PUT",
      body: JSON.stringify({ metric: "pressure", max: 5 }),
    });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { error: string; message: string };
    expect(problem.error).toBe("ValidationError");
    expect(problem.message).toMatch(/unknown field\(s\) metric, max/);
    const list = (await (await call("/api/thresholds", operator)).json()) as unknown[];
    expect(list).toEqual([]); // nothing stored by the refused body

    expect((await call(`/api/metrics?deviceId=${deviceId}`, operator)).status).toBe(404);
  });

  it("thresholds set stores a bound that shows with its scope, and a reading beyond it opens bound:pressure:high", async () => {
    const file = path.join(instance.dataDir, "devices.json");
    fs.writeFileSync(
      file,
      JSON.stringify([{ deviceId, manufacturer: "acme", model: "p100", site: "plant-a" }]),
    );
    const imported = await runCli(["devices", "import", file], env);
    expect(imported.code, imported.stderr).toBe(0);
    const operator = await cliToken("operator", "olga");

    const set = await runCli(
      [
        "thresholds",
        "set",
        `devices/${deviceId}`,
        "--bound",
        "pressure.max=5",
        "--silence-windows",
        "0",
        "--json",
      ],
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      scope: `devices/${deviceId}`,
      bounds: { pressure: { max: 5 } },
      silenceWindows: 0,
      updatedBy: "cli-olga",
    });
    const listed = await runCli(["thresholds", "list"], env);
    expect(listed.stdout).toMatch(new RegExp(`devices/${deviceId}\\s+pressure ≤ 5, silence off`));

    const effective = (await (await call(`/api/devices/${deviceId}/thresholds`, operator)).json()) as {
      bounds: Record<string, { max?: { value: number; scope: string } }>;
      silenceWindows: { value: number; scope: string };
    };
    expect(effective.bounds.pressure.max).toEqual({ value: 5, scope: `devices/${deviceId}` });
    expect(effective.silenceWindows).toEqual({ value: 0, scope: `devices/${deviceId}` });

    const history = (await (await call("/api/thresholds/history", operator)).json()) as {
      scope: string;
      by: string;
      at: string;
      before: unknown;
    }[];
    expect(history[0]).toMatchObject({ scope: `devices/${deviceId}`, by: "cli-olga", before: null });
    expect(Date.parse(history[0].at)).toBeGreaterThan(Date.now() - 600_000);

    const client = await connectMqtt(instance.mqttPort);
    const now = Date.now();
    for (const [i, pressure] of [3, 3.2, 9].entries()) {
      await publish(
        client,
        `dt/plant-a/${deviceId}/telemetry`,
        JSON.stringify({ deviceId, ts: new Date(now + i * 100).toISOString(), metrics: { pressure } }),
      );
    }
    await endMqtt(client);

    const route = `/api/incidents?deviceId=${deviceId}&rule=${encodeURIComponent("bound:pressure:high")}`;
    const deadline = Date.now() + 90_000;
    let incidents: { rule: string; state: string; deviceId: string }[] = [];
    while (incidents.length === 0) {
      if (Date.now() > deadline) throw new Error(`no bound incident:\n${instance.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      incidents = (await (await call(route, operator)).json()) as typeof incidents;
    }
    expect(incidents[0]).toMatchObject({ deviceId, rule: "bound:pressure:high", state: "open" });
    const open = (await (await call("/api/incidents?state=open", operator)).json()) as { state: string }[];
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((i) => i.state === "open")).toBe(true);
    expect(await (await call("/api/incidents?state=resolved", operator)).json()).toEqual([]);
    const badFilter = await call("/api/incidents?state=closed", operator);
    expect(badFilter.status).toBe(400);

    const deleted = await runCli(["thresholds", "delete", `devices/${deviceId}`, "--json"], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ scope: `devices/${deviceId}`, deleted: true });
    const after = await runCli(["thresholds", "list", "--json"], env);
    expect(JSON.parse(after.stdout)).toEqual([]);
    const changes = await runCli(["thresholds", "history", "--json", "--scope", `devices/${deviceId}`], env);
    expect(JSON.parse(changes.stdout)[0]).toMatchObject({ by: "cli-olga", after: null });
  });

  it("simulate --register signs its import as an operator with the instance's key (no 401), then publishes", async () => {
    const result = await runCli(
      [
        ...[
          "simulate",
          "--register",
          "--devices",
          "3",
          "--count",
          "3",
          "--qos",
          "1",
          "--json",
          "--no-progress",
        ],
        ...["--types", "canonical", "--mqtt", `mqtt://127.0.0.1:${instance.mqttPort}`, "--http", url],
      ],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`registered 3 devices at ${url}`);
  });
});
