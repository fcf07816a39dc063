import type { Clock } from "../ports/clock.ts";
import { systemClock } from "../ports/clock.ts";
import type { KeyProvider } from "../ports/key-provider.ts";
import type { SealedValue } from "../ports/phi-vault-store.ts";
import { DriftwatchError, TransientError } from "../shared/errors.ts";
import { gcmDecrypt, gcmEncrypt } from "./aes-gcm.ts";

/** The sealed value failed authentication (tampered, wrong record, or wrong key). */
export class SealedValueIntegrityError extends DriftwatchError {}

export interface EnvelopeCipher {
  /** Encrypts `plaintext`, bound to `aad` (e.g. the vault item's key), under a cached data key. */
  seal(plaintext: string | Uint8Array, aad: string): Promise<SealedValue>;
  open(sealed: SealedValue, aad: string): Promise<Uint8Array>;
}

export interface EnvelopeCipherOptions {
  keyProvider: KeyProvider;
  clock?: Clock;
  /** A data key is replaced after this long (default 5 minutes)… */
  dataKeyMaxAgeMs?: number;
  /** …or after sealing this many values (default 100,000; far below GCM's 2^32 random-IV bound). */
  dataKeyMaxUses?: number;
  /** Decrypted data keys kept for `open` (default 100). */
  openCacheSize?: number;
}

interface CachedKey {
  keyId: string;
  plaintext: Buffer;
  encrypted: string;
  createdAt: number;
  uses: number;
}

/**
 * Envelope encryption with AES-256-GCM: each value is encrypted under a data key from the `KeyProvider`, and the
 * data key travels encrypted with the value. Data keys are reused for a bounded time and count, so a batch costs
 * one KMS call, not one per value. Key-provider failures surface as `TransientError`s.
 */
export function createEnvelopeCipher(options: EnvelopeCipherOptions): EnvelopeCipher {
  const clock = options.clock ?? systemClock;
  const maxAge = options.dataKeyMaxAgeMs ?? 5 * 60_000;
  const maxUses = options.dataKeyMaxUses ?? 100_000;
  const openCacheSize = options.openCacheSize ?? 100;
  let current: CachedKey | undefined;
  let pending: Promise<CachedKey> | undefined;
  const opened = new Map<string, Buffer>();

  const fresh = (key: CachedKey | undefined): key is CachedKey =>
    key !== undefined && key.uses < maxUses && clock.now() - key.createdAt < maxAge;

  async function dataKey(): Promise<CachedKey> {
    if (fresh(current)) return current;
    pending ??= (async () => {
      try {
        const key = await options.keyProvider.generateDataKey();
        if (key.plaintext.length !== 32)
          throw new DriftwatchError("the key provider returned a data key that is not 32 bytes");
        const cached: CachedKey = {
          keyId: key.keyId,
          plaintext: Buffer.from(key.plaintext),
          encrypted: Buffer.from(key.encrypted).toString("base64"),
          createdAt: clock.now(),
          uses: 0,
        };
        current = cached;
        return cached;
      } catch (error) {
        throw asTransient(error, "could not obtain a data key");
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  }

  return {
    async seal(plaintext, aad) {
      const key = await dataKey();
      key.uses++;
      const body = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : Buffer.from(plaintext);
      const { iv, ciphertext, tag } = gcmEncrypt(key.plaintext, body, Buffer.from(aad, "utf8"));
      return {
        alg: "AES-256-GCM",
        keyId: key.keyId,
        encryptedKey: key.encrypted,
        iv: iv.toString("base64"),
        ciphertext: ciphertext.toString("base64"),
        tag: tag.toString("base64"),
      };
    },

    async open(sealed, aad) {
      if (sealed.alg !== "AES-256-GCM") throw new SealedValueIntegrityError("unsupported algorithm");
      const cacheKey = `${sealed.keyId}\u0000${sealed.encryptedKey}`;
      let plainKey = opened.get(cacheKey);
      if (plainKey === undefined) {
        try {
          plainKey = Buffer.from(
            await options.keyProvider.decrypt(Buffer.from(sealed.encryptedKey, "base64"), sealed.keyId),
          );
        } catch (error) {
          throw asTransient(error, "could not decrypt the data key");
        }
        if (opened.size >= openCacheSize) opened.delete(opened.keys().next().value as string);
        opened.set(cacheKey, plainKey);
      }
      try {
        return gcmDecrypt(
          plainKey,
          {
            iv: Buffer.from(sealed.iv, "base64"),
            ciphertext: Buffer.from(sealed.ciphertext, "base64"),
            tag: Buffer.from(sealed.tag, "base64"),
          },
          Buffer.from(aad, "utf8"),
        );
      } catch (error) {
        throw new SealedValueIntegrityError("the sealed value failed authentication", { cause: error });
      }
    },
  };
}

function asTransient(error: unknown, message: string): DriftwatchError {
  // Configuration problems (access denied, missing key) are raised as such by adapters; keep them.
  if (error instanceof DriftwatchError) return error;
  return new TransientError(message, { cause: error });
}
