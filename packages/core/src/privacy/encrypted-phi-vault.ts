import type { Clock } from "../ports/clock.ts";
import { systemClock } from "../ports/clock.ts";
import type { PhiVault } from "../ports/phi-vault.ts";
import type { PhiVaultStore } from "../ports/phi-vault-store.ts";
import type { PhiEntry } from "./deidentifier.ts";
import type { EnvelopeCipher } from "./envelope-cipher.ts";

export interface EncryptedPhiVault extends PhiVault {
  /** Decrypts a stored value (for authorised re-identification and tests). Undefined if absent. */
  reveal(subject: string, field: string): Promise<string | undefined>;
  stats(): { written: number; unchanged: number; skipped: number };
}

/** The additional authenticated data that binds a sealed value to its vault item. */
export function vaultAad(token: string, field: string): string {
  return `driftwatch/phi-vault/v1\u0000${token}\u0000${field}`;
}

/**
 * The PHI vault: seals each value with envelope encryption and writes it with `putIfChanged`, so storing is
 * idempotent. Values already stored by this process (same subject, field and mac) are skipped without a write —
 * a monitor sends a record a second for the same patient, the vault sees one write per patient and container.
 */
export function createEncryptedPhiVault(options: {
  store: PhiVaultStore;
  cipher: EnvelopeCipher;
  clock?: Clock;
  /** Size of the "already stored" memo (default 100,000 entries). */
  memoSize?: number;
}): EncryptedPhiVault {
  const clock = options.clock ?? systemClock;
  const memoSize = options.memoSize ?? 100_000;
  const memo = new Set<string>();
  const counters = { written: 0, unchanged: 0, skipped: 0 };

  async function storeOne(subject: string, entry: PhiEntry): Promise<void> {
    const field = entry.field.toLowerCase();
    const memoKey = `${subject}\u0000${field}\u0000${entry.mac}`;
    if (memo.has(memoKey)) {
      counters.skipped++;
      return;
    }
    const sealed = await options.cipher.seal(entry.value, vaultAad(subject, field));
    const outcome = await options.store.putIfChanged({
      token: subject,
      field,
      mac: entry.mac,
      sealed,
      storedAt: new Date(clock.now()).toISOString(),
    });
    counters[outcome]++;
    if (memo.size >= memoSize) memo.clear();
    memo.add(memoKey);
  }

  return {
    async store(subject, entries) {
      await Promise.all(entries.map((entry) => storeOne(subject, entry)));
    },
    async reveal(subject, field) {
      const record = await options.store.get(subject, field.toLowerCase());
      if (record === undefined) return undefined;
      const bytes = await options.cipher.open(record.sealed, vaultAad(subject, field.toLowerCase()));
      return Buffer.from(bytes).toString("utf8");
    },
    stats: () => ({ ...counters }),
  };
}
