/** One envelope-encrypted value (AES-256-GCM under a data key that the key provider encrypted). */
export interface SealedValue {
  alg: "AES-256-GCM";
  /** Key-encryption key that wrapped the data key. */
  keyId: string;
  /** base64: the encrypted data key. */
  encryptedKey: string;
  /** base64: 12-byte IV. */
  iv: string;
  /** base64 */
  ciphertext: string;
  /** base64: 16-byte GCM tag. */
  tag: string;
}

/** A vault item (table `PhiVault`: partition key `token`, sort key `field`). Holds no clear PHI. */
export interface SealedPhiRecord {
  /** The subject token (e.g. the patient id's token). */
  token: string;
  field: string;
  /** Keyed fingerprint of the clear value: equal values have equal macs, so rewrites can be skipped. */
  mac: string;
  sealed: SealedValue;
  /** ISO 8601 time the value was first stored (or last changed). */
  storedAt: string;
}

/** Storage of sealed vault records (DynamoDB on AWS and in local mode). */
export interface PhiVaultStore {
  /**
   * Writes the record unless the item (token, field) already holds the same `mac`. Idempotent: a retry, a
   * duplicate or a concurrent writer of the same value leaves one item. Returns whether it wrote.
   */
  putIfChanged(record: SealedPhiRecord): Promise<"written" | "unchanged">;
  get(token: string, field: string): Promise<SealedPhiRecord | undefined>;
}
