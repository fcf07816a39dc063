import { randomBytes } from "node:crypto";
import type { DataKey, KeyProvider } from "../ports/key-provider.ts";
import { ConfigurationError } from "../shared/errors.ts";
import { DecryptionFailedError, open, seal } from "./aes-gcm.ts";

/**
 * The one `KeyProvider` without KMS (KMS `GenerateDataKey`/`Decrypt` stand-in): data keys are 32 random bytes,
 * returned in clear (memory only) and wrapped under a 32-byte key-encryption key (KEK) that the caller keeps —
 * local mode reads it from `$DATA_DIR/keys/vault.key` (packages/local/src/storage/local-key-provider.ts), tests
 * pass bytes. Wrapped form: a sealed box (`aes-gcm.ts`) naming `keyId`, which is authenticated.
 */
export function createLocalKeyProvider(options: { kek: Uint8Array; keyId?: string }): KeyProvider {
  if (options.kek.length !== 32) throw new ConfigurationError("the key-encryption key must be 32 bytes");
  const kek = Buffer.from(options.kek);
  const keyId = options.keyId ?? "local";
  return {
    async generateDataKey(): Promise<DataKey> {
      const plaintext = randomBytes(32);
      return {
        keyId,
        plaintext: new Uint8Array(plaintext),
        encrypted: new Uint8Array(seal(kek, keyId, plaintext)),
      };
    },
    async decrypt(encrypted: Uint8Array, wrappedBy: string): Promise<Uint8Array> {
      if (wrappedBy !== keyId) {
        throw new ConfigurationError(
          `data key was wrapped by "${wrappedBy}", this key provider holds "${keyId}"`,
        );
      }
      const opened = open(kek, encrypted);
      if (opened.keyId !== keyId) {
        throw new DecryptionFailedError("data key was sealed under another key id", {
          code: "KEY_ID_MISMATCH",
        });
      }
      return new Uint8Array(opened.plaintext);
    },
  };
}
