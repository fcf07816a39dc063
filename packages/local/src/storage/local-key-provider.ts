import crypto from "node:crypto";
import type { DataKey, KeyProvider } from "@driftwatch/core/ports/key-provider";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { open, seal } from "./aes-gcm.ts";
import { LOCAL_KEY_BYTES, loadOrCreateKey } from "./key-files.ts";

/** Id of local mode's vault key-encryption key (the stand-in for the vault's KMS key). */
export const LOCAL_VAULT_KEY_ID = "local:vault";

/**
 * Local mode's `KeyProvider`: KMS `GenerateDataKey`/`Decrypt` with a local key-encryption key,
 * `$DATA_DIR/keys/vault.key` (32 random bytes, 0600, created on first start). A data key is 32 random bytes,
 * returned in clear (memory only) and wrapped with AES-256-GCM under the key-encryption key; the wrapped form
 * is what the vault stores next to each value. Deleting the key file makes the vault unreadable, as deleting
 * (or losing access to) the KMS key does on AWS.
 */
export function createLocalKeyProvider(keysDir: string, keyId = LOCAL_VAULT_KEY_ID): KeyProvider {
  const kek = loadOrCreateKey(keysDir, keyId.replace(/^local:/, ""));
  return {
    async generateDataKey(): Promise<DataKey> {
      const plaintext = crypto.randomBytes(LOCAL_KEY_BYTES);
      return {
        keyId,
        plaintext: new Uint8Array(plaintext),
        encrypted: new Uint8Array(seal(kek, keyId, plaintext)),
      };
    },
    async decrypt(encrypted: Uint8Array, requestedKeyId: string): Promise<Uint8Array> {
      if (requestedKeyId !== keyId) {
        throw new ConfigurationError(
          `data key was wrapped by "${requestedKeyId}", local mode holds "${keyId}"`,
        );
      }
      return new Uint8Array(open(kek, encrypted).plaintext);
    },
  };
}
