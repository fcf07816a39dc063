import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { tables, type TableDefinition } from "@driftwatch/functions/shared/tables";

/** Physical name of a table in local mode, e.g. `driftwatch-local-Devices`. */
export function localTableName(stage: string, definition: Pick<TableDefinition, "id">): string {
  return `driftwatch-${stage}-${definition.id}`;
}

/** Every table that `packages/functions/src/shared/tables.ts` lists at the time of the call. */
export function listedTables(): TableDefinition[] {
  return Object.values(tables as Record<string, TableDefinition>);
}

/** `{ DEVICES_TABLE: "driftwatch-local-Devices", … }` for the handlers' environment. */
export function tableEnv(
  stage: string,
  definitions: readonly TableDefinition[] = listedTables(),
): Record<string, string> {
  return Object.fromEntries(definitions.map((d) => [d.envVar, localTableName(stage, d)]));
}

export function createTableInput(name: string, definition: TableDefinition): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const add = (key: { name: string; type: "S" | "N" | "B" } | undefined) => {
    if (key) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  };
  add(definition.partitionKey);
  add(definition.sortKey);
  for (const index of definition.globalIndexes ?? []) {
    add(index.partitionKey);
    add(index.sortKey);
  }
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: "HASH" as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: "RANGE" as const }] : []),
  ];
  return {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.globalIndexes?.length
      ? {
          GlobalSecondaryIndexes: definition.globalIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: "ALL" as const },
          })),
        }
      : {}),
  };
}

/**
 * Creates each table unless it exists (idempotent: a restart with a persisted data dir finds them).
 * Returns the names of the tables created now. dynalite has no TTL; `timeToLiveAttribute` is ignored locally.
 */
export async function ensureTables(
  client: DynamoDBClient,
  stage: string,
  definitions: readonly TableDefinition[] = listedTables(),
): Promise<string[]> {
  const created: string[] = [];
  for (const definition of definitions) {
    const name = localTableName(stage, definition);
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
      continue;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    try {
      await client.send(new CreateTableCommand(createTableInput(name, definition)));
      created.push(name);
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  return created;
}
