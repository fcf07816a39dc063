import type { PhiEntry } from "../privacy/deidentifier.ts";

/**
 * Where PHI values go: encrypted, keyed by the record's subject token and the field name.
 * Core's `createEncryptedPhiVault` implements it on top of a `PhiVaultStore` and a `KeyProvider`.
 * `store` is idempotent: storing the same (subject, field, value) again changes nothing.
 */
export interface PhiVault {
  store(subject: string, entries: readonly PhiEntry[]): Promise<void>;
}
