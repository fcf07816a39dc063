/**
 * Key schemas of every DynamoDB table, shared by the stacks (which create the tables) and local mode
 * (which creates the same tables in dynalite). One entry per table; attribute types are DynamoDB's.
 * Environment variable names carry the physical table names into the handlers.
 */
export interface TableDefinition {
  /** Logical id in the stacks, also the local table name suffix. */
  id: string;
  partitionKey: { name: string; type: "S" | "N" | "B" };
  sortKey?: { name: string; type: "S" | "N" | "B" };
  timeToLiveAttribute?: string;
  globalIndexes?: {
    indexName: string;
    partitionKey: { name: string; type: "S" | "N" | "B" };
    sortKey?: { name: string; type: "S" | "N" | "B" };
  }[];
  /** Environment variable that carries the table name into handlers. */
  envVar: string;
}

export const tables = {
  devices: {
    id: "Devices",
    partitionKey: { name: "deviceId", type: "S" },
    envVar: "DEVICES_TABLE",
  },
  vault: {
    id: "PhiVault",
    partitionKey: { name: "token", type: "S" },
    sortKey: { name: "field", type: "S" },
    envVar: "VAULT_TABLE",
  },
} satisfies Record<string, TableDefinition>;
