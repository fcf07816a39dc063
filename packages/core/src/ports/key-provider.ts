/**
 * Data keys for envelope encryption (the PHI vault). On AWS: KMS `GenerateDataKey`/`Decrypt` under the vault's
 * customer-managed key; locally: a key-encryption key kept under the data directory. Core caches data keys
 * (see `privacy/envelope-cipher.ts`), so implementations need not.
 */
export interface DataKey {
  /** Identifies the key-encryption key (KMS key ARN, local key id). */
  keyId: string;
  /** 32 bytes for AES-256. Kept in memory only. */
  plaintext: Uint8Array;
  /** The same data key encrypted under `keyId`; stored next to every ciphertext it sealed. */
  encrypted: Uint8Array;
}

export interface KeyProvider {
  generateDataKey(): Promise<DataKey>;
  /** Recovers a data key's plaintext from its encrypted form. */
  decrypt(encrypted: Uint8Array, keyId: string): Promise<Uint8Array>;
}
