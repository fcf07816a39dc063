import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { NonceStore } from "@driftwatch/core/ports/nonce-store";
import { TransientError } from "@driftwatch/core/shared/errors";

/**
 * Used acknowledgement-link nonces in DynamoDB (`tables.ackNonces`): a conditional put makes each nonce usable
 * once; `expiresAt` is the table's TTL attribute, so nonces disappear after their link has expired anyway.
 */
export function createDynamoNonceStore(client: DynamoDBClient, tableName: string): NonceStore {
  const doc = DynamoDBDocumentClient.from(client);
  return {
    async consume(nonce, expiresAt) {
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: { nonce, expiresAt, usedAt: new Date().toISOString() },
            ConditionExpression: "attribute_not_exists(nonce)",
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw new TransientError("nonce store: consume failed", { cause: error });
      }
    },
    async release(nonce) {
      await doc.send(new DeleteCommand({ TableName: tableName, Key: { nonce } }));
    },
  };
}
