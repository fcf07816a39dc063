import { PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeParts, type AggregatePart } from "@driftwatch/core/window/stored-part";
import { DynamoDeviceCatalog } from "../../src/adapters/dynamo-device-catalog.ts";
import { DynamoMetricsStore, sortKeyOf } from "../../src/adapters/dynamo-metrics-store.ts";
import { tables } from "../../src/shared/tables.ts";
import { createTable, startDynalite } from "../support/dynalite.ts";

let db: Awaited<ReturnType<typeof startDynalite>>;
let table = 0;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => db?.stop());

async function store(): Promise<{ metrics: DynamoMetricsStore; name: string }> {
  const name = `metrics-${++table}`;
  await createTable(db.client, name, tables.metrics);
  return { metrics: new DynamoMetricsStore(db.client, name, { ttlSeconds: 90 * 86_400 }), name };
}

const WINDOW = Date.parse("2026-12-01T10:00:00Z");
const SEGMENT = "49650000000000000000000000000000000000000000000000000001";

/** The parts one window of a shard writes: `metrics` per device, with realistic (non-round) values. */
function windowParts(devices: string[], metrics: string[], windowStartMs = WINDOW): AggregatePart[] {
  return devices.flatMap((deviceId, d) =>
    metrics.map((metric, m) => {
      const count = 60 + d;
      const mean = 20.123456789 + m * 1.7 + d / 3;
      return {
        deviceId,
        metric,
        windowStartMs,
        windowEndMs: windowStartMs + 60_000,
        shardId: "shardId-000000000003",
        segment: SEGMENT,
        agg: {
          count,
          sum: mean * count,
          min: mean - 2.345678,
          max: mean + 3.456789,
          mean,
          m2: 12.3456789 * count,
          firstEventMs: windowStartMs + 431,
          lastEventMs: windowStartMs + 59_377,
          maxScore: 0.7312345 + m / 100,
          anomalies: m % 2,
        },
      };
    }),
  );
}

const FIVE = ["temperature", "pressure", "vibration", "rpm", "current"];
const byIdentity = (a: AggregatePart, b: AggregatePart) =>
  `${a.deviceId}/${a.metric}`.localeCompare(`${b.deviceId}/${b.metric}`);

describe("DynamoMetricsStore on dynalite: one item per device and window", () => {
  it("writes one item per device for a window of five metrics, each one write unit, and reads the parts back", async () => {
    const { metrics, name } = await store();
    const parts = windowParts(["pump-1", "pump-2", "weather-station-0042"], FIVE);
    await metrics.putParts(parts);

    const scan = await db.client.send(new ScanCommand({ TableName: name }));
    expect(scan.Count).toBe(3);
    // Re-put each stored item as it is and ask DynamoDB (dynalite) what the write costs: items ≤ 1 KB cost 1 unit.
    for (const item of scan.Items!) {
      const put = await db.client.send(
        new PutItemCommand({ TableName: name, Item: item, ReturnConsumedCapacity: "TOTAL" }),
      );
      expect(put.ConsumedCapacity?.CapacityUnits).toBe(1);
    }

    for (const deviceId of ["pump-1", "pump-2", "weather-station-0042"]) {
      const read = await metrics.listParts(deviceId);
      expect(read.sort(byIdentity)).toEqual(parts.filter((p) => p.deviceId === deviceId).sort(byIdentity));
    }
  });

  it("is idempotent: writing the window again (retry, replay) leaves the same items", async () => {
    const { metrics, name } = await store();
    const parts = windowParts(["pump-1", "pump-2"], FIVE);
    await metrics.putParts(parts);
    await metrics.putParts(parts);
    expect((await db.client.send(new ScanCommand({ TableName: name, Select: "COUNT" }))).Count).toBe(2);
    expect(mergeParts(await metrics.listParts("pump-1"))).toEqual(
      mergeParts(parts.filter((p) => p.deviceId === "pump-1")),
    );
  });

  it("splits a device with many metrics over several items, and reads ranges by window", async () => {
    const { metrics, name } = await store();
    const many = Array.from({ length: 250 }, (_, i) => `m${String(i).padStart(3, "0")}`);
    const first = windowParts(["gateway-1"], many);
    const second = windowParts(["gateway-1"], FIVE, WINDOW + 60_000);
    await metrics.putParts([...first, ...second]);
    expect((await db.client.send(new ScanCommand({ TableName: name, Select: "COUNT" }))).Count).toBe(4);
    expect((await metrics.listParts("gateway-1")).length).toBe(255);
    const onlySecond = await metrics.listParts("gateway-1", { fromMs: WINDOW + 60_000 });
    expect(onlySecond.sort(byIdentity)).toEqual([...second].sort(byIdentity));
  });

  it("still reads items of the per-metric layout, counting a part stored both ways once", async () => {
    const { metrics, name } = await store();
    const parts = windowParts(["pump-1"], FIVE);
    const documents = DynamoDBDocumentClient.from(db.client);
    // The former layout: one item per metric (written by the previous release, kept until its TTL).
    for (const p of [...parts, ...windowParts(["pump-1"], ["humidity"])]) {
      await documents.send(
        new PutCommand({
          TableName: name,
          Item: {
            deviceId: p.deviceId,
            part: sortKeyOf(p),
            metric: p.metric,
            windowStartMs: p.windowStartMs,
            windowEndMs: p.windowEndMs,
            shardId: p.shardId,
            segment: p.segment,
            ...p.agg,
          },
        }),
      );
    }
    await metrics.putParts(parts); // the same segment rewritten in the new layout
    const read = await metrics.listParts("pump-1");
    expect(read.map((p) => p.metric).sort()).toEqual([...FIVE, "humidity"].sort());
    expect(mergeParts(read).find((v) => v.metric === "temperature")!.count).toBe(60);
  });

  it("keeps the device catalogue's last seen: the newest item's last event", async () => {
    const { metrics, name } = await store();
    await createTable(db.client, `devices-${table}`, tables.devices);
    await metrics.putParts([
      ...windowParts(["pump-1"], FIVE),
      ...windowParts(["pump-1"], FIVE, WINDOW + 60_000),
    ]);
    const catalog = new DynamoDeviceCatalog(db.client, `devices-${table}`, name);
    expect(await catalog.lastSeen("pump-1")).toBe(new Date(WINDOW + 60_000 + 59_377).toISOString());
  });
});
