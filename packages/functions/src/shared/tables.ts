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
  /** Escalation: `INCIDENT#<id>` items (incident + timeline) and `OPEN#<deviceId>#<rule>` dedupe pointers. */
  incidents: {
    id: "Incidents",
    partitionKey: { name: "pk", type: "S" },
    globalIndexes: [
      {
        indexName: "byEntity",
        partitionKey: { name: "entity", type: "S" },
        sortKey: { name: "openedAt", type: "S" },
      },
    ],
    envVar: "INCIDENTS_TABLE",
  },
  /** Escalation: nonces of used acknowledgement links (single use), expiring with the link. */
  ackNonces: {
    id: "AckNonces",
    partitionKey: { name: "nonce", type: "S" },
    timeToLiveAttribute: "expiresAt",
    envVar: "ACK_NONCES_TABLE",
  },
  /**
   * Scoring: window aggregate parts, one item per (device, window, shard, segment) holding all its metrics; sort
   * key `<windowStart ISO>#@device#<shardId>#<segment>#<chunk>` (DynamoMetricsStore, ADR 1001; items of the former
   * per-metric layout `<windowStart ISO>#<metric>#<shardId>#<segment>` are still read). TTL-expired.
   */
  metrics: {
    id: "Metrics",
    partitionKey: { name: "deviceId", type: "S" },
    sortKey: { name: "part", type: "S" },
    timeToLiveAttribute: "expiresAt",
    envVar: "METRICS_TABLE",
  },
  /** Scoring: threshold rules, one item per scope (`global`, `manufacturer#m`, `model#m#model`, `device#id`). */
  thresholds: {
    id: "Thresholds",
    partitionKey: { name: "scope", type: "S" },
    envVar: "THRESHOLDS_TABLE",
  },
  /**
   * API: the change history of threshold rules, one item per change: `scope` (path form) + `change`
   * (`<at ISO>#<id>`); the `byTime` index (`entity` = "change", sorted by `change`) lists every scope newest first.
   */
  thresholdHistory: {
    id: "ThresholdHistory",
    partitionKey: { name: "scope", type: "S" },
    sortKey: { name: "change", type: "S" },
    globalIndexes: [
      {
        indexName: "byTime",
        partitionKey: { name: "entity", type: "S" },
        sortKey: { name: "change", type: "S" },
      },
    ],
    envVar: "THRESHOLD_HISTORY_TABLE",
  },
} satisfies Record<string, TableDefinition>;
