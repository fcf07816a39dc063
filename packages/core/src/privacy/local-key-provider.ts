import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { DataKey, KeyProvider } from "../ports/key-provider.ts";
import { ConfigurationError, DriftwatchError } from "../shared/errors.ts";

/**
 * A `KeyProvider` without KMS: data keys are random and wrapped with AES-256-GCM under a 32-byte key-encryption
 * key (KEK) that the caller keeps (local mode: a key file under the data directory; tests: random bytes).
 * Wrapped form: iv (12) | tag (16) | ciphertext (32).
 */
export function createLocalKeyProvider(options: { kek: Uint8Array; keyId?: string }): KeyProvider {
  if (options.kek.length !== 32) throw new ConfigurationError("the key-encryption key must be 32 bytes");
  const kek = Buffer.from(options.kek);
  const keyId = options.keyId ?? "local";
  return {
    async generateDataKey(): Promise<DataKey> {
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", kek, iv);
      cipher.setAAD(Buffer.from(keyId, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { keyId, plaintext, encrypted: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]) };
    },
    async decrypt(encrypted: Uint8Array, wrappedBy: string): Promise<Uint8Array> {
      if (wrappedBy !== keyId)
        throw new ConfigurationError(`data key was wrapped by another key-encryption key`);
      const bytes = Buffer.from(encrypted);
      try {
        const decipher = createDecipheriv("aes-256-gcm", kek, bytes.subarray(0, 12));
        decipher.setAAD(Buffer.from(keyId, "utf8"));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
      } catch (error) {
        throw new DriftwatchError("could not unwrap the data key (wrong key-encryption key or corrupted)", {
          cause: error,
        });
      }
    },
  };
}
