/**
 * What the ingest benchmarks (bench/transform.ts, bench/lake-writer.ts) share: a seeded random stream, the device
 * fleet the records name, fresh transformation dependencies (in-memory registry and vault, real de-identifier and
 * cipher) and a Lambda context.
 */
import type { Context } from "aws-lambda";
import { createDeidentifier, defaultPhiCatalogue } from "@driftwatch/core/privacy/deidentifier";
import { createEncryptedPhiVault } from "@driftwatch/core/privacy/encrypted-phi-vault";
import { createEnvelopeCipher } from "@driftwatch/core/privacy/envelope-cipher";
import { createLocalKeyProvider } from "@driftwatch/core/privacy/local-key-provider";
import type { Device } from "@driftwatch/core/telemetry/device";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { InMemoryDeviceRegistry, InMemoryPhiVaultStore } from "@driftwatch/core/testing";
import type { TransformDeps } from "@driftwatch/functions/firehose/transform";

/** Devices of the four seed shapes, `med-0`, `wx-1`, `fan-2`, `dt-3`, `med-4`, … */
export const BENCH_DEVICES = 200;

// Deterministic pseudo-random numbers (mulberry32), so every run sees the same records.
export function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const devices: Device[] = Array.from({ length: BENCH_DEVICES }, (_, i) => {
  const kind = ["med", "wx", "fan", "dt"][i % 4];
  return { deviceId: `${kind}-${i}`, manufacturer: `Maker ${i % 5}`, model: `Model ${i % 7}` };
});

/** Cold caches: the first sight of each device and patient costs a registry lookup and a vault write. */
export function freshDeps(): TransformDeps {
  const deidentifier = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: Buffer.alloc(32, 1) });
  const vault = createEncryptedPhiVault({
    store: new InMemoryPhiVaultStore(),
    cipher: createEnvelopeCipher({ keyProvider: createLocalKeyProvider({ kek: Buffer.alloc(32, 2) }) }),
  });
  const preparer = createReadingPreparer({
    registry: new InMemoryDeviceRegistry(devices),
    deidentifier,
    vault,
  });
  return { preparer, deidentifier };
}

export const benchContext = {
  functionName: "bench",
  awsRequestId: "bench",
  memoryLimitInMB: "1024",
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;
