import { aws_dynamodb as dynamodb, type aws_kms as kms } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { TableDefinition } from "@driftwatch/functions/shared/tables";

/**
 * A DynamoDB table built from a shared `TableDefinition` (`packages/functions/src/shared/tables.ts`), so the
 * stacks and local mode's dynalite tables cannot drift. On-demand billing, point-in-time recovery, optional
 * customer-managed encryption, deletion protection when `retain` (production).
 */
export interface DefinedTableProps {
  encryptionKey?: kms.IKey;
  retain: boolean;
}

const attributeType = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

export function tableFromDefinition(
  scope: Construct,
  def: TableDefinition,
  props: DefinedTableProps,
): dynamodb.Table {
  const table = new dynamodb.Table(scope, def.id, {
    partitionKey: { name: def.partitionKey.name, type: attributeType[def.partitionKey.type] },
    sortKey: def.sortKey ? { name: def.sortKey.name, type: attributeType[def.sortKey.type] } : undefined,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: def.timeToLiveAttribute,
    deletionProtection: props.retain,
    ...(props.encryptionKey
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
      : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
  });
  for (const index of def.globalIndexes ?? []) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey.name, type: attributeType[index.partitionKey.type] },
      sortKey: index.sortKey
        ? { name: index.sortKey.name, type: attributeType[index.sortKey.type] }
        : undefined,
    });
  }
  return table;
}
