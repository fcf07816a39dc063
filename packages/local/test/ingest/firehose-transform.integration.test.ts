import fs from "node:fs";
import path from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { encodeEnvelope } from "@driftwatch/core/telemetry/envelope";
import { FirehoseEmulator } from "../../src/ingest/firehose-emulator.ts";
import { createRuleRouter } from "../../src/ingest/rule-routing.ts";
import { createLocalTransform } from "../../src/ingest/local-transform.ts";
import { startStorage } from "../../src/storage/index.ts";
import { testContext } from "../helpers/test-context.ts";
import { allFiles, readZone } from "../helpers/local-instance.ts";
import { medicalRecord } from "../../../core/test/telemetry/seed-payloads.ts";

/** The emulator with the REAL transformation handler on real dynalite (registry, vault) and local keys. */
async function setup(now?: () => number) {
  const context = testContext();
  const storageService = await startStorage(context);
  const storage = context.storage!;
  await storage.devices.putMany([
    { deviceId: "device8401", manufacturer: "Halvard Medical", model: "VitaLink 300", site: "icu" },
  ]);
  const { processor } = createLocalTransform(storage, {});
  const emulator = new FirehoseEmulator({
    streamName: "ingest",
    lakeDir: path.join(context.config.dataDir, "lake"),
    stateDir: path.join(context.config.dataDir, "firehose"),
    bufferBytes: 5 * 1024 * 1024,
    bufferSeconds: 60,
    processor,
    rawCipher: storage.rawCipher,
    retryDelayMs: 1,
    status: context.status,
    now,
  });
  return { context, storage, storageService, emulator, dataDir: context.config.dataDir };
}

/** Seed 003's record with its timestamp (and device) replaced. */
const medical = (timestamp: string, deviceId = "device8401") =>
  JSON.stringify({ ...medicalRecord, timestamp, device_id: deviceId });

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("Firehose emulator + transformation handler + dynalite", () => {
  it("partitions readings and errors by arrival hour, drops redeliveries, vaults PHI sealed", async () => {
    let clock = Date.parse("2024-05-01T09:59:59Z");
    const { storage, storageService, emulator, dataDir, context } = await setup(() => clock);
    dirs.push(dataDir);
    try {
      const first = encodeEnvelope("LifeSupportDevice/Sensor", medical("2024-05-01T09:59:58"), clock);
      await emulator.deliver(first);
      await emulator.deliver(first); // the same record again (a redelivery) → Dropped
      await emulator.deliver(
        encodeEnvelope("LifeSupportDevice/Sensor", medical("2024-05-01T09:59:59", "device0000"), clock),
      );
      clock = Date.parse("2024-05-01T10:00:01Z");
      await emulator.deliver(
        encodeEnvelope("LifeSupportDevice/Sensor", medical("2024-05-01T10:00:00"), clock),
      );
      const [report] = await emulator.flush();
      expect(report).toMatchObject({
        records: 4,
        invocations: 1,
        ok: 3,
        dropped: 1,
        processingFailed: 0,
        zones: { readings: 2, errors: 1 },
      });

      const lake = path.join(dataDir, "lake");
      const keys = allFiles(lake)
        .map((f) => path.relative(lake, f))
        .map((k) => path.dirname(k))
        .sort();
      expect(keys).toEqual([
        "errors/date=2024-05-01/hour=09",
        "raw/date=2024-05-01/hour=09",
        "readings/date=2024-05-01/hour=09",
        "readings/date=2024-05-01/hour=10",
      ]);
      const readings = readZone(dataDir, "readings");
      expect(readings.map((r) => r.ts)).toEqual(["2024-05-01T09:59:58.000Z", "2024-05-01T10:00:00.000Z"]);
      expect(readings[0]).toMatchObject({
        deviceId: "device8401",
        manufacturer: "Halvard Medical",
        model: "VitaLink 300",
        site: "icu",
      });
      expect(readZone(dataDir, "errors").map((e) => e.code)).toEqual(["UNKNOWN_DEVICE"]);
      expect(readZone(dataDir, "raw")).toHaveLength(4);
      expect(context.status.get("lake.readings")).toBe(2);

      const vault = await storage.dynamo.send(new ScanCommand({ TableName: storage.tableNames.VAULT_TABLE }));
      expect(vault.Items?.map((i) => i.field.S).sort()).toEqual(["dob", "name"]);
      expect(JSON.stringify(vault.Items)).not.toMatch(/Eugenia|08\/27\/1977|patient2605/);
    } finally {
      await storageService.stop();
    }
  });

  it("keeps identical publishes in the same millisecond apart: each becomes its own record (not Dropped)", async () => {
    // Regression: the envelope had no per-message id, so the transformation's duplicate dropping (meant for a
    // retried put) silently dropped distinct publishes with the same topic, payload and receive millisecond.
    const { storageService, emulator, dataDir } = await setup();
    dirs.push(dataDir);
    try {
      const route = createRuleRouter({
        targets: () => [{ name: "firehose:ingest", catchAll: true, deliver: (e) => emulator.deliver(e) }],
        errorDir: path.join(dataDir, "rule-errors"),
      });
      const receivedAt = Date.parse("2024-05-01T09:00:00Z");
      const publish = (topic: string, payload: string) =>
        route({ topic, payload: Buffer.from(payload), receivedAt, qos: 1 });
      for (let i = 0; i < 3; i++) await publish("LifeSupportDevice/Sensor", medical("2024-05-01T08:59:59"));
      for (let i = 0; i < 4; i++) await publish("dt/site/pump-7/telemetry", "not json");
      const [report] = await emulator.flush();
      expect(report).toMatchObject({ records: 7, ok: 7, dropped: 0, zones: { readings: 3, errors: 4 } });
      expect(readZone(dataDir, "readings")).toHaveLength(3);
      expect(readZone(dataDir, "errors").map((e) => e.code)).toEqual(Array(4).fill("INVALID_JSON"));
    } finally {
      await storageService.stop();
    }
  });

  it("retries when the registry is unreachable, then writes sealed processing-failed records without clear PHI", async () => {
    const { storageService, emulator, dataDir } = await setup();
    dirs.push(dataDir);
    await storageService.stop(); // dynalite gone: the handler's lookups fail transiently
    await emulator.deliver(
      encodeEnvelope("LifeSupportDevice/Sensor", medical("2024-05-01T09:00:00"), Date.now()),
    );
    const [report] = await emulator.flush();
    expect(report).toMatchObject({ records: 1, ok: 0, processingFailed: 1 });
    const failed = readZone(dataDir, "errors/firehose/processing-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attemptsMade: 4, errorCode: "Lambda.FunctionError" });
    for (const file of allFiles(path.join(dataDir, "lake"))) {
      expect(fs.readFileSync(file).includes(Buffer.from("Eugenia")), file).toBe(false);
    }
  });
});
