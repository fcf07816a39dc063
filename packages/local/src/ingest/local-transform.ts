import { CachedRegistry } from "@driftwatch/core/telemetry/cached-registry";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { DynamoPhiVaultStore } from "@driftwatch/functions/adapters/dynamo-phi-vault";
import { createTransformHandler, type TransformDeps } from "@driftwatch/functions/firehose/transform";
import { readConfig, seconds } from "@driftwatch/functions/shared/config";
import { createPrivacy, readPhiCatalogue } from "@driftwatch/functions/shared/privacy";
import { BatchingDeviceRegistry } from "../storage/batching-readers.ts";
import type { LocalStorage } from "../storage/local-storage.ts";
import type { TransformationProcessor } from "./firehose-emulator.ts";

/**
 * The `ingest` stream's transformation handler as local mode runs it: the SAME `createTransformHandler` as on
 * AWS, with local adapters: the registry and vault on dynalite (the functions package's DynamoDB adapters),
 * the local vault key provider and token key (storage service), `PHI_CATALOGUE` from the environment.
 *
 * Registry cache: found devices for `DEVICE_CACHE_TTL_SECONDS` (300 s, as on AWS); "not registered" only for
 * `DEVICE_NEGATIVE_CACHE_TTL_SECONDS` (local default 5 s; AWS 30 s), and a device imported through
 * `/api/devices` is dropped from the cache at once, so its next reading is accepted.
 */
export function createLocalTransform(
  storage: LocalStorage,
  env: NodeJS.ProcessEnv = process.env,
): { processor: TransformationProcessor; deps: TransformDeps; registry: CachedRegistry } {
  const cache = readConfig(
    { DEVICE_CACHE_TTL_SECONDS: seconds(300), DEVICE_NEGATIVE_CACHE_TTL_SECONDS: seconds(5) },
    env,
  );
  const privacy = createPrivacy({
    catalogue: readPhiCatalogue(env),
    tokenKey: storage.tokenKey,
    vaultStore: new DynamoPhiVaultStore(storage.dynamo, storage.tableNames.VAULT_TABLE),
    keyProvider: storage.vaultKeys,
  });
  // The Lambda's cache, over a reader that merges concurrent lookups into BatchGetItem (`batching-readers.ts`).
  const registry = new CachedRegistry(
    new BatchingDeviceRegistry(storage.dynamo, storage.tableNames.DEVICES_TABLE),
    {
      ttlMs: cache.DEVICE_CACHE_TTL_SECONDS * 1000,
      negativeTtlMs: cache.DEVICE_NEGATIVE_CACHE_TTL_SECONDS * 1000,
    },
  );
  storage.onDevicesImported((ids) => ids.forEach((id) => registry.invalidate(id)));
  const deps: TransformDeps = {
    preparer: createReadingPreparer({ registry, deidentifier: privacy.deidentifier, vault: privacy.vault }),
    deidentifier: privacy.deidentifier,
  };
  const handler = createTransformHandler(async () => deps);
  return { processor: (event, context) => handler(event, context), deps, registry };
}
