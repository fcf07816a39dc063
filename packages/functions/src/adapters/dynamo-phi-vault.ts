import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { PhiVaultStore, SealedPhiRecord, SealedValue } from "@driftwatch/core/ports/phi-vault-store";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * Sealed PHI records on DynamoDB (table `PhiVault`: partition key `token`, sort key `field`; the table itself is
 * encrypted with the vault's KMS key). The values are already envelope-encrypted by core; this adapter never
 * sees clear PHI. Writes are conditional — only when the item is absent or holds a different value (mac) — so
 * retries and duplicates are no-ops.
 */
export class DynamoPhiVaultStore implements PhiVaultStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async putIfChanged(record: SealedPhiRecord): Promise<"written" | "unchanged"> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            token: record.token,
            field: record.field,
            mac: record.mac,
            sealed: record.sealed,
            storedAt: record.storedAt,
          },
          ConditionExpression: "attribute_not_exists(#token) OR #mac <> :mac",
          ExpressionAttributeNames: { "#token": "token", "#mac": "mac" },
          ExpressionAttributeValues: { ":mac": record.mac },
        }),
      );
      return "written";
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return "unchanged";
      throw toDriftwatchError(error, "PHI vault PutItem");
    }
  }

  async get(token: string, field: string): Promise<SealedPhiRecord | undefined> {
    try {
      const { Item } = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { token, field }, ConsistentRead: true }),
      );
      if (Item === undefined) return undefined;
      return {
        token: String(Item.token),
        field: String(Item.field),
        mac: String(Item.mac),
        sealed: Item.sealed as SealedValue,
        storedAt: String(Item.storedAt),
      };
    } catch (error) {
      throw toDriftwatchError(error, "PHI vault GetItem");
    }
  }
}
