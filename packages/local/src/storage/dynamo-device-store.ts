import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { deviceSchema, type Device } from "@driftwatch/core/telemetry/device";
import type { DeviceRegistry, DeviceRegistryWriter } from "@driftwatch/core/ports/device-registry";
import type { DeviceStore } from "./device-routes.ts";

/**
 * The registry as local mode's API sees it: lookups and idempotent batch writes through the same adapter the
 * handlers use (so items have exactly the handlers' format), plus a full listing (a Scan; fine for a local
 * registry of thousands of devices).
 */
export function createDeviceStore(
  client: DynamoDBClient,
  tableName: string,
  adapter: DeviceRegistry & DeviceRegistryWriter,
): DeviceStore {
  const doc = DynamoDBDocumentClient.from(client);
  return {
    get: (deviceId) => adapter.get(deviceId),
    putMany: (devices) => adapter.putMany(devices),
    async list() {
      const devices: Device[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) {
          const parsed = deviceSchema.safeParse(item);
          if (parsed.success) devices.push(parsed.data);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return devices;
    },
  };
}
