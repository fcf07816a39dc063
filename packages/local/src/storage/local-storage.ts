import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KeyProvider } from "@driftwatch/core/ports/key-provider";
import type { ZoneCipher } from "./zone-cipher.ts";
import type { DeviceStore } from "./device-routes.ts";

/**
 * What the storage service offers the other local services (set on `LocalContext.storage`): the DynamoDB API
 * endpoint and a client for it, the physical table names, and the local stand-ins of the KMS keys.
 */
export interface LocalStorage {
  /** `http://127.0.0.1:<port>` of dynalite (also in the handlers' env as `AWS_ENDPOINT_URL_DYNAMODB`). */
  dynamoEndpoint: string;
  dynamo: DynamoDBClient;
  /** Physical table name by the table's env var (`DEVICES_TABLE` → `driftwatch-local-Devices`). */
  tableNames: Record<string, string>;
  devices: DeviceStore;
  /** The vault's key provider (KMS GenerateDataKey/Decrypt stand-in). */
  vaultKeys: KeyProvider;
  /** The HMAC key of identifier tokens (stable across restarts). */
  tokenKey: Uint8Array;
  /** The raw zone's cipher (raw/ objects, Firehose spool, processing-failed objects). */
  rawCipher: ZoneCipher;
  keysDir: string;
  /** Registers a listener for device imports (the transform's registry cache drops those ids at once). */
  onDevicesImported(listener: (deviceIds: readonly string[]) => void): void;
  /** Tells the listeners that devices were imported (the devices API calls it). */
  notifyDevicesImported(deviceIds: readonly string[]): void;
}
