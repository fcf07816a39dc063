import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { defaultRegistryDevices } from "@driftwatch/core/simulator/devices";
import { DynamoDeviceRegistry } from "@driftwatch/functions/adapters/dynamo-device-registry";
import { tables } from "@driftwatch/functions/shared/tables";
import type { LocalContext, LocalService } from "../runtime/context.ts";
import { LOCAL_REGION } from "../runtime/lambda-context.ts";
import { createDeviceStore } from "./dynamo-device-store.ts";
import { readConfig } from "@driftwatch/functions/shared/config";
import { z } from "zod";
import { startDynalite, startDynaliteWorker } from "./dynalite-server.ts";
import { loadOrCreateKey } from "./key-files.ts";
import { createVaultKeyProvider } from "./local-key-provider.ts";
import type { LocalStorage } from "./local-storage.ts";
import { ensureTables, listedTables, localTableName, tableEnv } from "./local-tables.ts";
import { createZoneCipher } from "./zone-cipher.ts";

export type { LocalStorage } from "./local-storage.ts";

/** Dummy credentials: dynalite accepts any; the SDK insists on some. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * Local storage: the DynamoDB API (dynalite on 127.0.0.1, a free port, LevelDB under `$DATA_DIR/dynamodb/`),
 * every table of `packages/functions/src/shared/tables.ts` (created if missing), the simulator's devices seeded
 * into a new registry, the local keys under `$DATA_DIR/keys/` and the handlers' environment (the registry API,
 * `/api/devices`, is the devices Lambda handler mounted by `runtime/api-routes.ts`). Publishes `context.storage` for the services started after it.
 */
export async function startStorage(context: LocalContext): Promise<LocalService> {
  const { config } = context;
  // dynalite runs in its own worker thread (issue 13) unless `DRIFTWATCH_DYNALITE_THREAD=main`.
  const { DRIFTWATCH_DYNALITE_THREAD: thread } = readConfig({
    DRIFTWATCH_DYNALITE_THREAD: z.enum(["worker", "main"]).default("worker"),
  });
  const dynaliteOptions = { dir: path.join(config.dataDir, "dynamodb"), host: config.host };
  const server =
    thread === "worker"
      ? await startDynaliteWorker({ ...dynaliteOptions, log: (message) => context.log("storage", message) })
      : await startDynalite(dynaliteOptions);
  const dynamo = new DynamoDBClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const definitions = listedTables();
    const created = await ensureTables(dynamo, config.stage, definitions);
    const tableNames = tableEnv(config.stage, definitions);
    context.setHandlerEnv({
      AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      ...tableNames,
    });

    const devicesTable = localTableName(config.stage, tables.devices);
    const devices = createDeviceStore(dynamo, devicesTable, new DynamoDeviceRegistry(dynamo, devicesTable));
    if (created.includes(devicesTable)) {
      const seed = defaultRegistryDevices();
      await devices.putMany(seed);
      context.log("storage", `seeded ${seed.length} simulated devices into ${devicesTable}`);
    }

    const keysDir = path.join(config.dataDir, "keys");
    const importListeners: ((deviceIds: readonly string[]) => void)[] = [];
    const storage: LocalStorage = {
      dynamoEndpoint: server.endpoint,
      dynamo,
      tableNames,
      devices,
      vaultKeys: createVaultKeyProvider(keysDir),
      tokenKey: new Uint8Array(loadOrCreateKey(keysDir, "token")),
      rawCipher: createZoneCipher(keysDir, "raw"),
      keysDir,
      onDevicesImported: (listener) => importListeners.push(listener),
      notifyDevicesImported: (deviceIds) => {
        for (const listener of importListeners) listener(deviceIds);
      },
    };
    context.storage = storage;
    context.log(
      "storage",
      `DynamoDB API at ${server.endpoint}; tables ${Object.values(tableNames).join(", ")}`,
    );
    if (created.length > 0) context.log("storage", `created tables ${created.join(", ")}`);
  } catch (error) {
    dynamo.destroy();
    await server.close();
    throw error;
  }

  return {
    name: "storage",
    async stop() {
      dynamo.destroy();
      await server.close();
    },
  };
}
