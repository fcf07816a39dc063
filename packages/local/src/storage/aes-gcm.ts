import crypto from "node:crypto";
import { DriftwatchError } from "@driftwatch/core/shared/errors";

const MAGIC = Buffer.from("DWE1", "ascii");
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Ciphertext that is not ours, was cut short, or fails authentication (wrong key, tampered). */
export class DecryptionFailedError extends DriftwatchError {}

/**
 * AES-256-GCM sealed box: `DWE1 | keyIdLength(1) | keyId | iv(12) | tag(16) | ciphertext`.
 * The key id is bound as additional authenticated data, so a blob cannot be opened under another key's name.
 */
export function seal(key: Uint8Array, keyId: string, plaintext: Uint8Array): Buffer {
  const id = Buffer.from(keyId, "utf8");
  if (id.length > 255) throw new RangeError("key id longer than 255 bytes");
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(id);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv, cipher.getAuthTag(), body]);
}

/** The key id a sealed blob names (to pick the key), without decrypting. */
export function sealedKeyId(blob: Uint8Array): string {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < MAGIC.length + 1 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new DecryptionFailedError("not a Driftwatch local ciphertext", { code: "NOT_SEALED" });
  }
  const idLength = buf[MAGIC.length];
  return buf.subarray(MAGIC.length + 1, MAGIC.length + 1 + idLength).toString("utf8");
}

export function open(key: Uint8Array, blob: Uint8Array): { keyId: string; plaintext: Buffer } {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const keyId = sealedKeyId(buf);
  const idLength = buf[MAGIC.length];
  let offset = MAGIC.length + 1 + idLength;
  if (buf.length < offset + IV_BYTES + TAG_BYTES) {
    throw new DecryptionFailedError("ciphertext is truncated", { code: "TRUNCATED" });
  }
  const iv = buf.subarray(offset, (offset += IV_BYTES));
  const tag = buf.subarray(offset, (offset += TAG_BYTES));
  try {
    const decipher = crypto.createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(Buffer.from(keyId, "utf8"));
    decipher.setAuthTag(tag);
    return { keyId, plaintext: Buffer.concat([decipher.update(buf.subarray(offset)), decipher.final()]) };
  } catch (error) {
    throw new DecryptionFailedError("ciphertext failed authentication (wrong key or tampered)", {
      code: "AUTH_FAILED",
      cause: error,
    });
  }
}
