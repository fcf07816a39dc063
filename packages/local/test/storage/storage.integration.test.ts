import fs from "node:fs";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { defaultRegistryDevices } from "@driftwatch/core/simulator/devices";
import { tables } from "@driftwatch/functions/shared/tables";
import { startStorage } from "../../src/storage/index.ts";
import { testContext } from "../helpers/test-context.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const post = (context: ReturnType<typeof testContext>, body: unknown) =>
  context.http.handle({
    method: "POST",
    path: "/api/devices",
    query: new URLSearchParams(),
    headers: {},
    body: JSON.stringify(body),
  });
const get = (context: ReturnType<typeof testContext>, path: string) =>
  context.http.handle({ method: "GET", path, query: new URLSearchParams(), headers: {}, body: "" });

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
    expect(
      (await post(context, [changed, { deviceId: "new-1", manufacturer: "M", model: "X" }])).status,
    ).toBe(200);
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

  it("serves /api/devices: validates the whole list, writes idempotently, lists and gets", async () => {
    const context = testContext();
    dirs.push(context.config.dataDir);
    const service = await startStorage(context);
    try {
      const list = [
        { deviceId: "imp-1", manufacturer: "Acme", model: "A1", site: "s1" },
        { deviceId: "imp-2", manufacturer: "Acme", model: "A2" },
      ];
      for (let i = 0; i < 2; i++) {
        const res = await post(context, { devices: list });
        expect(res.status).toBe(200);
        expect(JSON.parse(String(res.body))).toEqual({ imported: 2 });
      }
      const all = JSON.parse(String((await get(context, "/api/devices")).body)).devices;
      expect(all.filter((d: { deviceId: string }) => d.deviceId.startsWith("imp-"))).toEqual(list);
      expect(JSON.parse(String((await get(context, "/api/devices/imp-2")).body))).toEqual(list[1]);
      expect((await get(context, "/api/devices/nope")).status).toBe(404);

      const bad = await post(context, [
        { deviceId: "imp-3", manufacturer: "Acme", model: "A3" },
        { deviceId: "imp-4" },
      ]);
      expect(bad.status).toBe(400);
      expect(JSON.parse(String(bad.body)).issues).toEqual([
        "[1].manufacturer is required (string)",
        "[1].model is required (string)",
      ]);
      expect((await get(context, "/api/devices/imp-3")).status).toBe(404); // nothing written
      const notJson = await context.http.handle({
        method: "POST",
        path: "/api/devices",
        query: new URLSearchParams(),
        headers: {},
        body: "{",
      });
      expect(notJson.status).toBe(400);
    } finally {
      await service.stop();
    }
  });
});
