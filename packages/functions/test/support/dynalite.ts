import { createRequire } from "node:module";
import type { AddressInfo, Server } from "node:net";
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import type { TableDefinition } from "../../src/shared/tables.ts";

// dynalite ships no types; it returns a plain node http server.
const dynalite = createRequire(import.meta.url)("dynalite") as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

/** A dynalite server on a random port of 127.0.0.1 and a client for it. */
export async function startDynalite(): Promise<{
  client: DynamoDBClient;
  endpoint: string;
  stop(): Promise<void>;
}> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  return {
    client,
    endpoint,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Creates a table from its shared definition (the stacks create the same key schema). */
export async function createTable(
  client: DynamoDBClient,
  name: string,
  table: TableDefinition,
): Promise<void> {
  const keys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
  const input: CreateTableCommandInput = {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
    KeySchema: [
      { AttributeName: table.partitionKey.name, KeyType: "HASH" },
      ...(table.sortKey ? [{ AttributeName: table.sortKey.name, KeyType: "RANGE" as const }] : []),
    ],
  };
  await client.send(new CreateTableCommand(input));
}
