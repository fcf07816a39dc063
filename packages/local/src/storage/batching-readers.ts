import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DeviceRegistry } from "@driftwatch/core/ports/device-registry";
import type { ThresholdsStore } from "@driftwatch/core/ports/thresholds-store";
import { TransientError } from "@driftwatch/core/shared/errors";
import { deviceSchema, type Device } from "@driftwatch/core/telemetry/device";
import type { ThresholdRule } from "@driftwatch/core/thresholds/threshold-rule";
import { toDriftwatchError } from "@driftwatch/functions/adapters/aws-errors";

/**
 * Read adapters for local mode that merge the lookups of one event-loop turn into DynamoDB `BatchGetItem` calls
 * (at most 100 keys each, unprocessed keys retried), behind the same caches the Lambdas keep. They answer exactly
 * what the functions package's adapters answer (`DynamoDeviceRegistry.get`, `DynamoThresholdsStore.getMany`), from
 * the same items; only the number of requests differs. Why (issue 13): dynalite costs a few ms of main-thread CPU
 * per request whatever its size, and a batch from 500 new devices made ~1,000 registry and thresholds requests per
 * consumer before its first record was scored.
 */
class TurnBatcher<K, V> {
  private queue = new Map<K, { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(private readonly load: (keys: K[]) => Promise<Map<K, V>>) {}

  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.queue.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.queue.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = new Map();
    const keys = [...queue.keys()];
    for (let i = 0; i < keys.length; i += 100) {
      const chunk = keys.slice(i, i + 100);
      try {
        const found = await this.load(chunk);
        for (const key of chunk) for (const w of queue.get(key)!) w.resolve(found.get(key));
      } catch (error) {
        for (const key of chunk) for (const w of queue.get(key)!) w.reject(error);
      }
    }
  }
}

async function batchGet(
  documents: DynamoDBDocumentClient,
  tableName: string,
  keys: Record<string, unknown>[],
  operation: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let pending = keys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= 8) throw new TransientError(`${operation} left unprocessed keys`);
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    try {
      const result = await documents.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending } } }),
      );
      items.push(...((result.Responses?.[tableName] as Record<string, unknown>[] | undefined) ?? []));
      pending = (result.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    } catch (error) {
      throw toDriftwatchError(error, operation);
    }
  }
  return items;
}

/** The device registry (table `Devices`) read through `BatchGetItem`; an invalid item counts as not registered. */
export class BatchingDeviceRegistry implements DeviceRegistry {
  private readonly batcher: TurnBatcher<string, Device>;

  constructor(client: DynamoDBClient, tableName: string) {
    const documents = DynamoDBDocumentClient.from(client);
    this.batcher = new TurnBatcher(async (ids) => {
      const items = await batchGet(
        documents,
        tableName,
        ids.map((deviceId) => ({ deviceId })),
        "device registry BatchGetItem",
      );
      const found = new Map<string, Device>();
      for (const item of items) {
        const parsed = deviceSchema.safeParse(item);
        if (parsed.success) found.set(parsed.data.deviceId, parsed.data);
      }
      return found;
    });
  }

  get(deviceId: string): Promise<Device | undefined> {
    return this.batcher.get(deviceId);
  }
}

/** A thresholds store whose concurrent `getMany` calls share `BatchGetItem` calls of the inner store. */
export class BatchingThresholdsStore implements ThresholdsStore {
  private readonly batcher: TurnBatcher<string, ThresholdRule>;

  constructor(inner: ThresholdsStore) {
    this.batcher = new TurnBatcher(async (scopes) => {
      const rules = await inner.getMany(scopes);
      return new Map(rules.map((rule) => [rule.scope, rule]));
    });
  }

  async getMany(scopes: readonly string[]): Promise<ThresholdRule[]> {
    const rules = await Promise.all([...new Set(scopes)].map((scope) => this.batcher.get(scope)));
    return rules.filter((rule): rule is ThresholdRule => rule !== undefined);
  }
}
