import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { deviceSchema, type Device } from "@driftwatch/core/telemetry/device";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * What the devices API reads besides single lookups: the whole registry (a Scan — registries are thousands of
 * devices, not millions) and when a device was last seen (the newest window part in the metrics table: one
 * Query with `Limit 1`, newest first).
 */
export class DynamoDeviceCatalog {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly devicesTable: string,
    private readonly metricsTable: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async list(): Promise<Device[]> {
    const devices: Device[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      try {
        const page = await this.documents.send(
          new ScanCommand({ TableName: this.devicesTable, ExclusiveStartKey: startKey }),
        );
        for (const item of page.Items ?? []) {
          const parsed = deviceSchema.safeParse({
            deviceId: item.deviceId,
            manufacturer: item.manufacturer,
            model: item.model,
            site: item.site,
          });
          if (parsed.success) devices.push(parsed.data);
        }
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw toDriftwatchError(error, "devices Scan");
      }
    } while (startKey);
    return devices.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  /** End of the newest stored window of the device (ISO), or undefined before its first window closes. */
  async lastSeen(deviceId: string): Promise<string | undefined> {
    try {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.metricsTable,
          KeyConditionExpression: "deviceId = :d",
          ExpressionAttributeValues: { ":d": deviceId },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const item = page.Items?.[0];
      const lastEventMs = item?.lastEventMs;
      if (typeof lastEventMs === "number") return new Date(lastEventMs).toISOString();
      return typeof item?.windowEndMs === "number" ? new Date(item.windowEndMs).toISOString() : undefined;
    } catch (error) {
      throw toDriftwatchError(error, "metrics Query");
    }
  }
}
