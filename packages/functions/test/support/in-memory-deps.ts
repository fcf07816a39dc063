import type { Context } from "aws-lambda";
import type { DeviceRegistry } from "@driftwatch/core/ports/device-registry";
import { createDeidentifier, defaultPhiCatalogue } from "@driftwatch/core/privacy/deidentifier";
import { createEncryptedPhiVault } from "@driftwatch/core/privacy/encrypted-phi-vault";
import { createEnvelopeCipher } from "@driftwatch/core/privacy/envelope-cipher";
import { InMemoryPhiVaultStore } from "@driftwatch/core/privacy/in-memory-vault-store";
import { createLocalKeyProvider } from "@driftwatch/core/privacy/local-key-provider";
import type { Device } from "@driftwatch/core/telemetry/device";
import { InMemoryDeviceRegistry } from "@driftwatch/core/telemetry/in-memory-registry";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import type { TransformDeps } from "../../src/firehose/transform.ts";

export const devices: Device[] = [
  { deviceId: "device8401", manufacturer: "Manufacturer 09", model: "Model 02" },
  { deviceId: "vzqHb8vghO", manufacturer: "Acme Weather", model: "WS-1" },
  { deviceId: "ABC123456", manufacturer: "Noctua", model: "NF-A12" },
  { deviceId: "pump-1", manufacturer: "Grundfos", model: "CR-5", site: "plant-7" },
];

export const phiValues = ["Eugenia Gottlieb", "Eugenia", "Gottlieb", "08/27/1977", "patient2605"];

/** In-memory ports (they stand in for DynamoDB/KMS; the handler and core logic are the real ones). */
export function inMemoryDeps(options: { registry?: DeviceRegistry } = {}) {
  const deidentifier = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: Buffer.alloc(32, 3) });
  const store = new InMemoryPhiVaultStore();
  const vault = createEncryptedPhiVault({
    store,
    cipher: createEnvelopeCipher({ keyProvider: createLocalKeyProvider({ kek: Buffer.alloc(32, 4) }) }),
  });
  const registry = options.registry ?? new InMemoryDeviceRegistry(devices);
  const deps: TransformDeps = {
    preparer: createReadingPreparer({ registry, deidentifier, vault }),
    deidentifier,
  };
  return { deps, deidentifier, store, vault, registry };
}

export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "driftwatch-test-transform",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:driftwatch-test-transform",
  memoryLimitInMB: "512",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  logGroupName: "/aws/lambda/driftwatch-test-transform",
  logStreamName: "2024/03/01/[$LATEST]abcdef",
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;
