import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import type { MetricsStore } from "@driftwatch/core/ports/metrics-store";
import { TransientError } from "@driftwatch/core/shared/errors";
import { aggregatePartSchema, type AggregatePart } from "@driftwatch/core/window/stored-part";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * Window aggregate parts on DynamoDB (table `Metrics`: partition key `deviceId`, sort key
 * `part = <windowStart ISO>#<metric>#<shardId>#<segment>`, TTL attribute `expiresAt`; see `shared/tables.ts`).
 *
 * A put overwrites the complete item of its key (PutRequest), so writing a part again — a retried batch, a
 * replayed window — leaves exactly one copy: idempotent without conditions. Parts of one window are merged on read.
 */
export class DynamoMetricsStore implements MetricsStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly options: { ttlSeconds?: number; concurrency?: number } = {},
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async putParts(parts: readonly AggregatePart[]): Promise<void> {
    // One item per key within a request (BatchWriteItem rejects duplicates): the last value of a key wins.
    const items = [
      ...new Map(parts.map((p) => [`${p.deviceId}\u0000${sortKeyOf(p)}`, this.toItem(p)])).values(),
    ];
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    const concurrency = this.options.concurrency ?? 8;
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        await this.writeChunk(chunk);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
  }

  private async writeChunk(chunk: Record<string, unknown>[]): Promise<void> {
    type Requests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]["RequestItems"]>[string];
    let requests: Requests = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= 10) throw new TransientError("metrics BatchWriteItem left unprocessed items");
      if (attempt > 0)
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 25 * 2 ** attempt)));
      try {
        const result = await this.documents.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = result.UnprocessedItems?.[this.tableName] ?? [];
      } catch (error) {
        throw toDriftwatchError(error, "metrics BatchWriteItem");
      }
    }
  }

  async listParts(
    deviceId: string,
    range: { fromMs?: number; toMs?: number } = {},
  ): Promise<AggregatePart[]> {
    const parts: AggregatePart[] = [];
    const from = range.fromMs !== undefined ? new Date(range.fromMs).toISOString() : "0";
    const to = range.toMs !== undefined ? `${new Date(range.toMs).toISOString()}~` : "~";
    let startKey: Record<string, unknown> | undefined;
    do {
      let page: QueryCommandOutput;
      try {
        page = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: "deviceId = :d AND #p BETWEEN :from AND :to",
            ExpressionAttributeNames: { "#p": "part" },
            ExpressionAttributeValues: { ":d": deviceId, ":from": from, ":to": to },
            ExclusiveStartKey: startKey,
          }),
        );
      } catch (error) {
        throw toDriftwatchError(error, "metrics Query");
      }
      for (const item of page.Items ?? []) {
        const part = fromItem(item);
        if (part) parts.push(part);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return parts;
  }

  private toItem(p: AggregatePart): Record<string, unknown> {
    const ttl = this.options.ttlSeconds ?? 30 * 24 * 3600;
    return {
      deviceId: p.deviceId,
      part: sortKeyOf(p),
      metric: p.metric,
      windowStartMs: p.windowStartMs,
      windowEndMs: p.windowEndMs,
      shardId: p.shardId,
      segment: p.segment,
      ...p.agg,
      expiresAt: Math.floor(p.windowEndMs / 1000) + ttl,
    };
  }
}

export function sortKeyOf(
  p: Pick<AggregatePart, "windowStartMs" | "metric" | "shardId" | "segment">,
): string {
  return `${new Date(p.windowStartMs).toISOString()}#${p.metric}#${p.shardId}#${p.segment}`;
}

function fromItem(item: Record<string, unknown>): AggregatePart | undefined {
  const parsed = aggregatePartSchema.safeParse({
    deviceId: item.deviceId,
    metric: item.metric,
    windowStartMs: item.windowStartMs,
    windowEndMs: item.windowEndMs,
    shardId: item.shardId,
    segment: item.segment,
    agg: {
      count: item.count,
      sum: item.sum,
      min: item.min,
      max: item.max,
      mean: item.mean,
      m2: item.m2,
      firstEventMs: item.firstEventMs,
      lastEventMs: item.lastEventMs,
      maxScore: item.maxScore,
      anomalies: item.anomalies,
    },
  });
  return parsed.success ? parsed.data : undefined;
}
