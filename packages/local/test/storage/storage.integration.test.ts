import fs from "node:fs";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { defaultRegistryDevices } from "@driftwatch/core/simulator/devices";
import { tables } from "@driftwatch/functions/shared/tables";
import { createDynamoIncidentStore } from "@driftwatch/functions/adapters/dynamo-incident-store";
import { registerApiRoutes } from "../../src/runtime/api-routes.ts";
import { startStorage } from "../../src/storage/index.ts";
import { testContext } from "../helpers/test-context.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("startStorage (dynalite)", () => {
  it("creates every listed table, sets the handlers' env, seeds the simulator's devices once, and persists", async () => {
    const context = testContext();
    dirs.push(context.config.dataDir);
    const service = await startStorage(context);
    const storage = context.storage!;
    for (const definition of Object.values(tables)) {
      const name = context.env[definition.envVar];
      expect(name, definition.envVar).toBe(`driftwatch-local-${definition.id}`);
      const described = await storage.dynamo.send(new DescribeTableCommand({ TableName: name }));
      expect(described.Table?.KeySchema?.[0]).toEqual({
        AttributeName: definition.partitionKey.name,
        KeyType: "HASH",
      });
    }
    expect(context.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(storage.dynamoEndpoint);
    expect(context.env.AWS_REGION).toBe("us-east-1");
    const seed = defaultRegistryDevices();
    expect(await storage.devices.list()).toHaveLength(seed.length);
    expect(await storage.devices.get(seed[0].deviceId)).toEqual(seed[0]);

    // An import changes a seeded device; a restart on the same data dir keeps it and does not re-seed.
    const changed = { ...seed[0], model: "Changed" };
    const imported: string[][] = [];
    storage.onDevicesImported((ids) => imported.push([...ids]));
    // (The devices API calls this after its write; see the next test.)
    await storage.devices.putMany([changed, { deviceId: "new-1", manufacturer: "M", model: "X" }]);
    storage.notifyDevicesImported([changed.deviceId, "new-1"]);
    expect(imported).toEqual([[changed.deviceId, "new-1"]]);
    const tokenKey = Buffer.from(storage.tokenKey);
    await service.stop();

    const again = testContext(context.config.dataDir);
    const restarted = await startStorage(again);
    expect(await again.storage!.devices.get(changed.deviceId)).toEqual(changed);
    expect(await again.storage!.devices.list()).toHaveLength(seed.length + 1);
    expect(Buffer.from(again.storage!.tokenKey).equals(tokenKey)).toBe(true);
    await restarted.stop();
  });

  it("serves the devices API (the mounted Lambda handler): signed, validates the whole list, idempotent, lists and gets", async () => {
    const context = testContext();
    dirs.push(context.config.dataDir);
    const service = await startStorage(context);
    try {
      const storage = context.storage!;
      context.incidents = {
        store: createDynamoIncidentStore(storage.dynamo, storage.tableNames[tables.incidents.envVar]),
        tokens: { succeed: async () => "stale" as const },
      };
      const identity = await registerApiRoutes(context);
      const imported: string[] = [];
      storage.onDevicesImported((ids) => imported.push(...ids));
      const authorization = `Bearer ${(await identity.sign({ user: "kim", role: "operator" })).token}`;
      const call = (method: string, path: string, body?: unknown, auth = authorization) =>
        context.http.handle({
          method,
          path,
          query: new URLSearchParams(),
          headers: {
            authorization: auth,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body),
          remoteAddress: "127.0.0.1",
        });
      expect((await call("GET", "/api/devices", undefined, "")).status).toBe(401);
      const list = [
        { deviceId: "imp-1", manufacturer: "Acme", model: "A1", site: "s1" },
        { deviceId: "imp-2", manufacturer: "Acme", model: "A2" },
      ];
      for (let i = 0; i < 2; i++) {
        const res = await call("POST", "/api/devices", list);
        expect(res.status).toBe(200);
        expect(JSON.parse(String(res.body))).toEqual({ imported: 2 });
      }
      expect(imported).toEqual(["imp-1", "imp-2", "imp-1", "imp-2"]);
      const all = JSON.parse(String((await call("GET", "/api/devices")).body));
      expect(all.filter((d: { deviceId: string }) => d.deviceId.startsWith("imp-"))).toEqual(
        list.map((d) => ({ ...d, openIncidents: 0 })),
      );
      expect(JSON.parse(String((await call("GET", "/api/devices/imp-2")).body))).toEqual({
        ...list[1],
        openIncidents: 0,
      });
      expect((await call("GET", "/api/devices/nope")).status).toBe(404);
      const bad = await call("POST", "/api/devices", [
        { deviceId: "imp-3", manufacturer: "Acme", model: "A3" },
        { deviceId: "imp-4" },
      ]);
      expect(bad.status).toBe(400);
      expect(JSON.parse(String(bad.body)).issues.map((i: { path: string }) => i.path)).toEqual([
        "[1].manufacturer",
        "[1].model",
      ]);
      expect((await call("GET", "/api/devices/imp-3")).status).toBe(404); // nothing written
      expect((await call("POST", "/api/devices", "{")).status).toBe(400);
    } finally {
      await service.stop();
    }
  });
});
