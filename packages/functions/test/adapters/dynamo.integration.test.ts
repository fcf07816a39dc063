import { GetItemCommand, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalKeyProvider } from "@driftwatch/core/privacy/local-key-provider";
import { defaultPhiCatalogue } from "@driftwatch/core/privacy/deidentifier";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";
import { encodeEnvelope } from "@driftwatch/core/telemetry/envelope";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { DynamoDeviceRegistry } from "../../src/adapters/dynamo-device-registry.ts";
import { DynamoPhiVaultStore } from "../../src/adapters/dynamo-phi-vault.ts";
import { createPrivacy } from "../../src/shared/privacy.ts";
import { tables } from "../../src/shared/tables.ts";
import { createTable, startDynalite } from "../support/dynalite.ts";
import { devices, phiValues } from "../support/in-memory-deps.ts";

let db: Awaited<ReturnType<typeof startDynalite>>;

beforeAll(async () => {
  db = await startDynalite();
  await createTable(db.client, "devices", tables.devices);
  await createTable(db.client, "vault", tables.vault);
});
afterAll(async () => db?.stop());

describe("DynamoDeviceRegistry on dynalite", () => {
  it("imports idempotently (more than one batch) and reads devices back", async () => {
    const registry = new DynamoDeviceRegistry(db.client, "devices");
    const many = Array.from({ length: 60 }, (_, i) => ({
      deviceId: `sim-${i}`,
      manufacturer: "Sim",
      model: `M${i % 3}`,
    }));
    await registry.putMany([...devices, ...many]);
    await registry.putMany([...devices, ...many]);
    const scan = await db.client.send(new ScanCommand({ TableName: "devices", Select: "COUNT" }));
    expect(scan.Count).toBe(64);
    expect(await registry.get("pump-1")).toEqual(devices[3]);
    expect(await registry.get("sim-59")).toEqual({ deviceId: "sim-59", manufacturer: "Sim", model: "M2" });
    expect(await registry.get("nope")).toBeUndefined();
  });

  it("treats an incomplete registry item as not registered", async () => {
    await db.client.send(
      new PutItemCommand({
        TableName: "devices",
        Item: { deviceId: { S: "half" }, manufacturer: { S: "x" } },
      }),
    );
    expect(await new DynamoDeviceRegistry(db.client, "devices").get("half")).toBeUndefined();
  });

  it("a missing table is a ConfigurationError", async () => {
    await expect(new DynamoDeviceRegistry(db.client, "no-such-table").get("x")).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });
});

describe("DynamoPhiVaultStore on dynalite", () => {
  const sealed = {
    alg: "AES-256-GCM" as const,
    keyId: "k",
    encryptedKey: "ZQ==",
    iv: "aXY=",
    ciphertext: "Yw==",
    tag: "dA==",
  };

  it("writes once per (token, field, mac) and replaces on a changed value", async () => {
    const store = new DynamoPhiVaultStore(db.client, "vault");
    const record = { token: "tok_x", field: "name", mac: "m1", sealed, storedAt: "2024-03-01T00:00:00.000Z" };
    expect(await store.putIfChanged(record)).toBe("written");
    expect(await store.putIfChanged({ ...record, storedAt: "2024-03-02T00:00:00.000Z" })).toBe("unchanged");
    expect(await store.get("tok_x", "name")).toEqual(record);
    expect(await store.putIfChanged({ ...record, mac: "m2" })).toBe("written");
    expect((await store.get("tok_x", "name"))?.mac).toBe("m2");
    expect(await store.get("tok_x", "dob")).toBeUndefined();
  });

  it("a concurrent burst of the same value leaves one item", async () => {
    const store = new DynamoPhiVaultStore(db.client, "vault");
    const record = {
      token: "tok_burst",
      field: "dob",
      mac: "m",
      sealed,
      storedAt: "2024-03-01T00:00:00.000Z",
    };
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.putIfChanged(record)));
    expect(outcomes.filter((outcome) => outcome === "written").length).toBeGreaterThanOrEqual(1);
    expect(
      outcomes.filter((outcome) => outcome === "written").length +
        outcomes.filter((outcome) => outcome === "unchanged").length,
    ).toBe(10);
  });
});

describe("ingest preparation on dynalite (registry + encrypted vault)", () => {
  it("enriches from the table and stores only ciphertext in the vault table", async () => {
    const privacy = createPrivacy({
      catalogue: defaultPhiCatalogue,
      tokenKey: Buffer.alloc(32, 5),
      vaultStore: new DynamoPhiVaultStore(db.client, "vault"),
      keyProvider: createLocalKeyProvider({ kek: Buffer.alloc(32, 6) }),
    });
    const preparer = createReadingPreparer({
      registry: new DynamoDeviceRegistry(db.client, "devices"),
      deidentifier: privacy.deidentifier,
      vault: privacy.vault,
    });
    const record = {
      timestamp: 1709294400000,
      device_id: "device8401",
      patient_id: "patient2605",
      name: "Eugenia Gottlieb",
      dob: "08/27/1977",
      temperature: 99,
      pulse: 70,
      oxygen_percent: 97,
      systolic: 120,
      diastolic: 80,
    };
    const { reading } = await preparer.prepare(
      encodeEnvelope("LifeSupportDevice/Sensor", JSON.stringify(record), 1709294400100),
    );
    expect(reading.manufacturer).toBe("Manufacturer 09");
    const token = reading.tags.patient_id;
    const item = await db.client.send(
      new GetItemCommand({ TableName: "vault", Key: { token: { S: token }, field: { S: "name" } } }),
    );
    expect(item.Item).toBeDefined();
    const everything = JSON.stringify((await db.client.send(new ScanCommand({ TableName: "vault" }))).Items);
    for (const value of phiValues) expect(everything).not.toContain(value);
    expect(await privacy.vault!.reveal(token, "name")).toBe("Eugenia Gottlieb");
  });
});

describe("dependency failures", () => {
  it("an unreachable DynamoDB is a TransientError", async () => {
    const other = await startDynalite();
    await other.stop();
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const client = new DynamoDBClient({
      endpoint: other.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    });
    await expect(new DynamoDeviceRegistry(client, "devices").get("x")).rejects.toBeInstanceOf(TransientError);
    client.destroy();
  });
});
