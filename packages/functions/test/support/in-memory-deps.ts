import type { DeviceRegistry } from "@driftwatch/core/ports/device-registry";
import { createDeidentifier, defaultPhiCatalogue } from "@driftwatch/core/privacy/deidentifier";
import { createEncryptedPhiVault } from "@driftwatch/core/privacy/encrypted-phi-vault";
import { createEnvelopeCipher } from "@driftwatch/core/privacy/envelope-cipher";
import { createLocalKeyProvider } from "@driftwatch/core/privacy/local-key-provider";
import type { Device } from "@driftwatch/core/telemetry/device";
import { InMemoryDeviceRegistry, InMemoryPhiVaultStore } from "@driftwatch/core/testing";
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

/** Re-exported: the shared Lambda context of every handler test. */
export { lambdaContext } from "./lambda-context.ts";
