import type { KeyProvider } from "@driftwatch/core/ports/key-provider";
import { createLocalKeyProvider } from "@driftwatch/core/privacy/local-key-provider";
import { loadOrCreateKey } from "./key-files.ts";

/** Id of local mode's vault key-encryption key (the stand-in for the vault's KMS key). */
export const LOCAL_VAULT_KEY_ID = "local:vault";

/**
 * Local mode's vault `KeyProvider`: core's local key provider with its key-encryption key in
 * `$DATA_DIR/keys/vault.key` (32 random bytes, 0600, created on first start). Deleting the key file makes the
 * vault unreadable, as deleting (or losing access to) the KMS key does on AWS.
 */
export function createVaultKeyProvider(keysDir: string, keyId = LOCAL_VAULT_KEY_ID): KeyProvider {
  return createLocalKeyProvider({ kek: loadOrCreateKey(keysDir, keyId.replace(/^local:/, "")), keyId });
}
