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
 * Window aggregate parts on DynamoDB (table `Metrics`: partition key `deviceId`, sort key `part`, TTL attribute
 * `expiresAt`; see `shared/tables.ts`).
 *
 * One item per device, window, shard and segment, holding every metric of that device in the segment
 * (`part = <windowStart ISO>#@device#<shardId>#<segment>#<chunk>`, metrics in the map `m` as
 * `[count, sum, min, max, mean, m2, firstEventMs, lastEventMs, maxScore, anomalies]`): a window normally costs one
 * write per device instead of one per metric (ADR 1001), and five metrics fit in one 1 KB write unit. A device
 * with more than `METRICS_PER_ITEM` metrics in a segment gets several items (chunks of its metrics sorted by name),
 * so no item approaches DynamoDB's 400 KB limit. The window scorer writes a whole segment in one `putParts` call,
 * which is what makes an item complete when written.
 *
 * A put overwrites the complete item of its key (PutRequest), so writing a segment again — a retried batch, a
 * replayed window — leaves exactly one copy: idempotent without conditions. Parts of one window are merged on read.
 * Items of the former layout (one per metric, `part = <windowStart ISO>#<metric>#<shardId>#<segment>`) are still
 * read until their TTL removes them; a part present in both layouts is counted once.
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
    // One item per key within a request (BatchWriteItem rejects duplicates): the last value of a metric wins.
    const items = this.toItems(parts);
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
      for (const item of page.Items ?? []) parts.push(...fromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // A part written in both layouts (a segment rewritten across the layout change) is the same part: keep one.
    return [...new Map(parts.map((p) => [partIdentity(p), p])).values()];
  }

  private toItems(parts: readonly AggregatePart[]): Record<string, unknown>[] {
    const ttl = this.options.ttlSeconds ?? 30 * 24 * 3600;
    const groups = new Map<string, Map<string, AggregatePart>>();
    for (const p of parts) {
      const key = `${p.deviceId}\u0000${p.windowStartMs}\u0000${p.shardId}\u0000${p.segment}`;
      let metrics = groups.get(key);
      if (!metrics) groups.set(key, (metrics = new Map()));
      metrics.set(p.metric, p);
    }
    const items: Record<string, unknown>[] = [];
    for (const metrics of groups.values()) {
      const sorted = [...metrics.values()].sort((a, b) =>
        a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0,
      );
      for (let chunk = 0; chunk * METRICS_PER_ITEM < sorted.length; chunk++) {
        const members = sorted.slice(chunk * METRICS_PER_ITEM, (chunk + 1) * METRICS_PER_ITEM);
        const first = members[0]!;
        const windowEndMs = Math.max(...members.map((p) => p.windowEndMs));
        items.push({
          deviceId: first.deviceId,
          part: deviceSortKeyOf(first, chunk),
          windowStartMs: first.windowStartMs,
          windowEndMs,
          shardId: first.shardId,
          segment: first.segment,
          // Top level for the device catalogue's "last seen" (newest item of the device).
          lastEventMs: Math.max(...members.map((p) => p.agg.lastEventMs)),
          m: Object.fromEntries(members.map((p) => [p.metric, encodeAggregate(p.agg)])),
          expiresAt: Math.floor(windowEndMs / 1000) + ttl,
        });
      }
    }
    return items;
  }
}

/** Metrics per item: a device's metrics of one segment beyond this go to further items (chunks). */
export const METRICS_PER_ITEM = 100;

const AGGREGATE_FIELDS = [
  "count",
  "sum",
  "min",
  "max",
  "mean",
  "m2",
  "firstEventMs",
  "lastEventMs",
  "maxScore",
  "anomalies",
] as const;

function encodeAggregate(agg: AggregatePart["agg"]): number[] {
  return AGGREGATE_FIELDS.map((field) => agg[field]);
}

/** Sort key of a device item: `@` never occurs in a metric name, so it cannot equal a per-metric key. */
export function deviceSortKeyOf(
  p: Pick<AggregatePart, "windowStartMs" | "shardId" | "segment">,
  chunk = 0,
): string {
  return `${new Date(p.windowStartMs).toISOString()}#@device#${p.shardId}#${p.segment}#${chunk}`;
}

/** Sort key of the former per-metric layout (still read). */
export function sortKeyOf(
  p: Pick<AggregatePart, "windowStartMs" | "metric" | "shardId" | "segment">,
): string {
  return `${new Date(p.windowStartMs).toISOString()}#${p.metric}#${p.shardId}#${p.segment}`;
}

function partIdentity(p: AggregatePart): string {
  return `${p.deviceId}\u0000${p.metric}\u0000${p.windowStartMs}\u0000${p.shardId}\u0000${p.segment}`;
}

function fromItem(item: Record<string, unknown>): AggregatePart[] {
  if (item.m !== null && typeof item.m === "object") {
    const parts: AggregatePart[] = [];
    for (const [metric, values] of Object.entries(item.m as Record<string, unknown>)) {
      if (!Array.isArray(values)) continue;
      const parsed = aggregatePartSchema.safeParse({
        deviceId: item.deviceId,
        metric,
        windowStartMs: item.windowStartMs,
        windowEndMs: item.windowEndMs,
        shardId: item.shardId,
        segment: item.segment,
        agg: Object.fromEntries(AGGREGATE_FIELDS.map((field, i) => [field, values[i]])),
      });
      if (parsed.success) parts.push(parsed.data);
    }
    return parts;
  }
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
  return parsed.success ? [parsed.data] : [];
}
