import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { DriftwatchError } from "../shared/errors.ts";

/**
 * The one AES-256-GCM implementation (random 12-byte iv, 16-byte tag, AAD bound), used by the vault's envelope
 * cipher (per-value fields), the local key provider (wrapped data keys) and local mode's sealed lake objects.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAGIC = Buffer.from("DWE1", "ascii");

/** Ciphertext that is not ours, was cut short, or fails authentication (wrong key, tampered). */
export class DecryptionFailedError extends DriftwatchError {}

export interface GcmParts {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Encrypts under `key` (32 bytes) with a fresh random iv; `aad` is authenticated, not encrypted. */
export function gcmEncrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): GcmParts {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts and authenticates; throws `DecryptionFailedError` (code `AUTH_FAILED`) on a wrong key, AAD or tampering. */
export function gcmDecrypt(
  key: Uint8Array,
  parts: { iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array },
  aad: Uint8Array,
): Buffer {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, parts.iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
  } catch (error) {
    throw new DecryptionFailedError("ciphertext failed authentication (wrong key or tampered)", {
      code: "AUTH_FAILED",
      cause: error,
    });
  }
}

/**
 * Sealed box: `DWE1 | keyIdLength(1) | keyId | iv(12) | tag(16) | ciphertext`. The key id is bound as additional
 * authenticated data, so a blob cannot be opened under another key's name.
 */
export function seal(key: Uint8Array, keyId: string, plaintext: Uint8Array): Buffer {
  const id = Buffer.from(keyId, "utf8");
  if (id.length > 255) throw new RangeError("key id longer than 255 bytes");
  const { iv, ciphertext, tag } = gcmEncrypt(key, plaintext, id);
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv, tag, ciphertext]);
}

/** The key id a sealed blob names (to pick the key), without decrypting. */
export function sealedKeyId(blob: Uint8Array): string {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < MAGIC.length + 1 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new DecryptionFailedError("not a Driftwatch sealed ciphertext", { code: "NOT_SEALED" });
  }
  const idLength = buf[MAGIC.length]!;
  return buf.subarray(MAGIC.length + 1, MAGIC.length + 1 + idLength).toString("utf8");
}

export function open(key: Uint8Array, blob: Uint8Array): { keyId: string; plaintext: Buffer } {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const keyId = sealedKeyId(buf);
  let offset = MAGIC.length + 1 + buf[MAGIC.length]!;
  if (buf.length < offset + IV_BYTES + TAG_BYTES) {
    throw new DecryptionFailedError("ciphertext is truncated", { code: "TRUNCATED" });
  }
  const iv = buf.subarray(offset, (offset += IV_BYTES));
  const tag = buf.subarray(offset, (offset += TAG_BYTES));
  const plaintext = gcmDecrypt(
    key,
    { iv, tag, ciphertext: buf.subarray(offset) },
    Buffer.from(keyId, "utf8"),
  );
  return { keyId, plaintext };
}
