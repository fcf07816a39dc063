import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { DynaliteWorkerError, startDynaliteWorker } from "../../src/storage/dynalite-server.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const clientOf = (endpoint: string) =>
  new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });

describe("dynalite in its own worker thread (issue 13)", () => {
  it("serves the DynamoDB API, persists to its directory across a restart, and closes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-dynalite-worker-"));
    dirs.push(dir);
    const first = await startDynaliteWorker({ dir, host: "127.0.0.1" });
    expect(first.endpoint).toBe(`http://127.0.0.1:${first.port}`);
    const client = clientOf(first.endpoint);
    await client.send(
      new CreateTableCommand({
        TableName: "items",
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    // A new table is CREATING until dynalite's timer marks it ACTIVE.
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: "items" });
    await client.send(new PutItemCommand({ TableName: "items", Item: { id: { S: "a" }, n: { N: "1" } } }));
    client.destroy();
    await first.close();
    // Closed: the port no longer accepts connections.
    await expect(
      new Promise((resolve, reject) =>
        net.connect(first.port, "127.0.0.1").once("connect", resolve).once("error", reject),
      ),
    ).rejects.toThrow();

    const second = await startDynaliteWorker({ dir, host: "127.0.0.1" });
    const again = clientOf(second.endpoint);
    const item = await again.send(new GetItemCommand({ TableName: "items", Key: { id: { S: "a" } } }));
    expect(item.Item).toEqual({ id: { S: "a" }, n: { N: "1" } });
    again.destroy();
    await second.close();
  });

  it("rejects with DynaliteWorkerError when it cannot listen", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startDynaliteWorker({ host: "127.0.0.1", port })).rejects.toBeInstanceOf(
        DynaliteWorkerError,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
