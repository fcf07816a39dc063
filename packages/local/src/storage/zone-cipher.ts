import { loadOrCreateKey } from "./key-files.ts";
import { open, seal } from "@driftwatch/core/privacy/aes-gcm";

/**
 * Encryption of a lake zone with that zone's own key, local mode's stand-in for S3 SSE-KMS with a zone CMK.
 * On AWS the raw/ zone (Firehose's source record backup, which holds original payloads and thus PHI) is
 * encrypted with its own KMS key that only Firehose (write) and a break-glass role (read) may use; locally the
 * raw/ objects (and the Firehose spool and processing-failed objects, which hold source records too) are
 * sealed with AES-256-GCM under `$DATA_DIR/keys/<zone>-zone.key`. Unlike SSE, this is visible on disk: such
 * objects end in `.enc`; `decrypt` opens them (see `readLakeObject` in `ingest/lake-reader.ts`).
 */
export interface ZoneCipher {
  keyId: string;
  encrypt(plaintext: Uint8Array): Buffer;
  decrypt(blob: Uint8Array): Buffer;
}

export function createZoneCipher(keysDir: string, zone: string): ZoneCipher {
  const keyId = `${zone}-zone`;
  const key = loadOrCreateKey(keysDir, keyId);
  return {
    keyId,
    encrypt: (plaintext) => seal(key, keyId, plaintext),
    decrypt: (blob) => open(key, blob).plaintext,
  };
}
