import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { DeviceRegistry, DeviceRegistryWriter } from "@driftwatch/core/ports/device-registry";
import { TransientError } from "@driftwatch/core/shared/errors";
import { deviceSchema, type Device } from "@driftwatch/core/telemetry/device";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * The device registry on DynamoDB (table `Devices`, partition key `deviceId`; see `shared/tables.ts`). An item
 * without a valid manufacturer/model counts as not registered (the reading goes to `errors/` as unknown).
 */
export class DynamoDeviceRegistry implements DeviceRegistry, DeviceRegistryWriter {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async get(deviceId: string): Promise<Device | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      ({ Item: item } = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { deviceId } }),
      ));
    } catch (error) {
      throw toDriftwatchError(error, "device registry GetItem");
    }
    if (item === undefined) return undefined;
    const parsed = deviceSchema.safeParse(item);
    return parsed.success ? parsed.data : undefined;
  }

  /** Idempotent upsert of many devices (BatchWriteItem in chunks of 25, unprocessed items retried). */
  async putMany(devices: readonly Device[]): Promise<void> {
    const unique = new Map(devices.map((device) => [device.deviceId, deviceSchema.parse(device)]));
    const items = [...unique.values()];
    for (let i = 0; i < items.length; i += 25) {
      let requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]["RequestItems"]>[string] =
        items.slice(i, i + 25).map((device) => ({ PutRequest: { Item: device } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= 8) throw new TransientError("device registry BatchWriteItem left unprocessed items");
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        try {
          const result = await this.documents.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
          );
          requests = result.UnprocessedItems?.[this.tableName] ?? [];
        } catch (error) {
          throw toDriftwatchError(error, "device registry BatchWriteItem");
        }
      }
    }
  }
}
