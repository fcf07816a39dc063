import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KeyProvider } from "../../src/ports/key-provider.ts";
import { createEncryptedPhiVault } from "../../src/privacy/encrypted-phi-vault.ts";
import { SealedValueIntegrityError, createEnvelopeCipher } from "../../src/privacy/envelope-cipher.ts";
import { InMemoryPhiVaultStore } from "../../testing/index.ts";
import { createLocalKeyProvider } from "../../src/privacy/local-key-provider.ts";
import { TransientError } from "../../src/shared/errors.ts";

function countingProvider(): KeyProvider & { generated: number; decrypted: number } {
  const inner = createLocalKeyProvider({ kek: Buffer.alloc(32, 9), keyId: "kek-1" });
  const provider = {
    generated: 0,
    decrypted: 0,
    async generateDataKey() {
      provider.generated++;
      return inner.generateDataKey();
    },
    async decrypt(encrypted: Uint8Array, keyId: string) {
      provider.decrypted++;
      return inner.decrypt(encrypted, keyId);
    },
  };
  return provider;
}

describe("envelope cipher (AES-256-GCM under cached data keys)", () => {
  it("round-trips any text, and ciphertexts never contain the plaintext", async () => {
    const cipher = createEnvelopeCipher({ keyProvider: countingProvider() });
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1 }), async (text) => {
        const sealed = await cipher.seal(text, "aad");
        expect(Buffer.from(await cipher.open(sealed, "aad")).toString("utf8")).toBe(text);
        if (text.length >= 12) expect(JSON.stringify(sealed)).not.toContain(text);
      }),
      { numRuns: 50 },
    );
  });

  it("binds the ciphertext to its AAD and detects tampering", async () => {
    const cipher = createEnvelopeCipher({ keyProvider: countingProvider() });
    const sealed = await cipher.seal("Eugenia Gottlieb", "tok_a\u0000name");
    await expect(cipher.open(sealed, "tok_b\u0000name")).rejects.toBeInstanceOf(SealedValueIntegrityError);
    const flipped = Buffer.from(sealed.ciphertext, "base64");
    flipped[0] ^= 1;
    await expect(
      cipher.open({ ...sealed, ciphertext: flipped.toString("base64") }, "tok_a\u0000name"),
    ).rejects.toBeInstanceOf(SealedValueIntegrityError);
  });

  it("reuses a data key within its age and use limits (one key-provider call per many values)", async () => {
    let now = 0;
    const provider = countingProvider();
    const cipher = createEnvelopeCipher({
      keyProvider: provider,
      clock: { now: () => now },
      dataKeyMaxUses: 100,
      dataKeyMaxAgeMs: 60_000,
    });
    await Promise.all(Array.from({ length: 100 }, (_, i) => cipher.seal(`v${i}`, "a")));
    expect(provider.generated).toBe(1);
    await cipher.seal("x", "a");
    expect(provider.generated).toBe(2);
    now += 60_000;
    await cipher.seal("y", "a");
    expect(provider.generated).toBe(3);
  });

  it("turns key-provider failures into TransientError and recovers", async () => {
    let fail = true;
    const inner = countingProvider();
    const cipher = createEnvelopeCipher({
      keyProvider: {
        generateDataKey: () => (fail ? Promise.reject(new Error("KMS throttled")) : inner.generateDataKey()),
        decrypt: inner.decrypt,
      },
    });
    await expect(cipher.seal("x", "a")).rejects.toBeInstanceOf(TransientError);
    fail = false;
    await expect(cipher.seal("x", "a")).resolves.toMatchObject({ alg: "AES-256-GCM", keyId: "kek-1" });
  });
});

describe("encrypted PHI vault", () => {
  it("stores sealed values idempotently and reveals them", async () => {
    const store = new InMemoryPhiVaultStore();
    const vault = createEncryptedPhiVault({
      store,
      cipher: createEnvelopeCipher({ keyProvider: countingProvider() }),
    });
    const entries = [{ field: "name", value: "Eugenia Gottlieb", mac: "m1" }];
    await vault.store("tok_1", entries);
    await vault.store("tok_1", entries);
    expect(vault.stats()).toEqual({ written: 1, unchanged: 0, skipped: 1 });
    // Another process (no memo) writing the same value: the store's condition makes it a no-op.
    const other = createEncryptedPhiVault({
      store,
      cipher: createEnvelopeCipher({ keyProvider: countingProvider() }),
    });
    await other.store("tok_1", entries);
    expect(other.stats().unchanged).toBe(1);
    expect(store.writes).toBe(1);
    expect(await other.reveal("tok_1", "name")).toBe("Eugenia Gottlieb");
    expect(JSON.stringify([...store.records.values()])).not.toContain("Eugenia");
    // A changed value replaces the item.
    await vault.store("tok_1", [{ field: "name", value: "Eugenia G. Gottlieb", mac: "m2" }]);
    expect(await vault.reveal("tok_1", "name")).toBe("Eugenia G. Gottlieb");
    expect(await vault.reveal("tok_1", "dob")).toBeUndefined();
  });
});
