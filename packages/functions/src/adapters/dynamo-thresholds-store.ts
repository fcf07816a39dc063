import { createHash } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from "@aws-sdk/lib-dynamodb";
import type {
  ThresholdsHistoryStore,
  ThresholdsStore,
  ThresholdsWriter,
} from "@driftwatch/core/ports/thresholds-store";
import { thresholdHistoryEntrySchema, type ThresholdHistoryEntry } from "@driftwatch/core/thresholds/history";
import { TransientError } from "@driftwatch/core/shared/errors";
import { thresholdRuleSchema, type ThresholdRule } from "@driftwatch/core/thresholds/threshold-rule";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * Threshold rules on DynamoDB (table `Thresholds`, partition key `scope`). An item that does not validate is
 * ignored (reported through `onInvalid`), so one bad edit cannot stop scoring.
 */
export class DynamoThresholdsStore implements ThresholdsStore, ThresholdsWriter {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly onInvalid: (scope: string) => void = () => {},
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async getMany(scopes: readonly string[]): Promise<ThresholdRule[]> {
    const rules: ThresholdRule[] = [];
    const unique = [...new Set(scopes)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + 100).map((scope) => ({ scope }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= 8) throw new TransientError("thresholds BatchGetItem left unprocessed keys");
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        try {
          const result = await this.documents.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
          );
          for (const item of result.Responses?.[this.tableName] ?? []) {
            const rule = this.parse(item);
            if (rule) rules.push(rule);
          }
          keys =
            (result.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        } catch (error) {
          throw toDriftwatchError(error, "thresholds BatchGetItem");
        }
      }
    }
    return rules;
  }

  async put(rule: ThresholdRule): Promise<void> {
    const item = thresholdRuleSchema.parse(rule);
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, updatedAt: item.updatedAt ?? new Date().toISOString() },
        }),
      );
    } catch (error) {
      throw toDriftwatchError(error, "thresholds PutItem");
    }
  }

  async remove(scope: string): Promise<void> {
    try {
      await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { scope } }));
    } catch (error) {
      throw toDriftwatchError(error, "thresholds DeleteItem");
    }
  }

  async list(): Promise<ThresholdRule[]> {
    const rules: ThresholdRule[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      try {
        const page = await this.documents.send(
          new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }),
        );
        for (const item of page.Items ?? []) {
          const rule = this.parse(item);
          if (rule) rules.push(rule);
        }
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw toDriftwatchError(error, "thresholds Scan");
      }
    } while (startKey);
    return rules.sort((a, b) => (a.scope < b.scope ? -1 : 1));
  }

  private parse(item: Record<string, unknown>): ThresholdRule | undefined {
    const parsed = thresholdRuleSchema.safeParse(item);
    if (!parsed.success) this.onInvalid(String(item.scope));
    return parsed.success ? parsed.data : undefined;
  }
}

/**
 * The threshold change history on DynamoDB (table `ThresholdHistory`: `scope` + `change` = `<at>#<by-hash>`, GSI
 * `byTime` on `entity` = "change"). The sort key is derived from the entry itself, so a retried `record` of the
 * same change overwrites its own item instead of adding a second one.
 */
export class DynamoThresholdsHistory implements ThresholdsHistoryStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async record(entry: ThresholdHistoryEntry): Promise<void> {
    const value = thresholdHistoryEntrySchema.parse(entry);
    const digest = createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...value, change: `${value.at}#${digest}`, entity: "change" },
        }),
      );
    } catch (error) {
      throw toDriftwatchError(error, "threshold history PutItem");
    }
  }

  async list(options: { scope?: string; limit?: number } = {}): Promise<ThresholdHistoryEntry[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 500, 5000));
    const entries: ThresholdHistoryEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      try {
        const page = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            ...(options.scope
              ? {
                  KeyConditionExpression: "#scope = :scope",
                  ExpressionAttributeNames: { "#scope": "scope" },
                  ExpressionAttributeValues: { ":scope": options.scope },
                }
              : {
                  IndexName: "byTime",
                  KeyConditionExpression: "entity = :entity",
                  ExpressionAttributeValues: { ":entity": "change" },
                }),
            ScanIndexForward: false,
            Limit: limit - entries.length,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const { change: _change, entity: _entity, ...rest } = item;
          const parsed = thresholdHistoryEntrySchema.safeParse(rest);
          if (parsed.success) entries.push(parsed.data);
        }
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw toDriftwatchError(error, "threshold history Query");
      }
    } while (startKey && entries.length < limit);
    return entries;
  }
}
