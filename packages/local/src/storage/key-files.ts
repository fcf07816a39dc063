import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ConfigurationError } from "@driftwatch/core/shared/errors";

/** Length of every local key: AES-256 / HMAC-SHA256. */
export const LOCAL_KEY_BYTES = 32;

/**
 * Loads the 32-byte key `$DATA_DIR/keys/<name>.key`, creating it (random, mode 0600, in a 0700 directory)
 * on first use. Local mode's stand-in for a KMS key: it never leaves this machine and persists with the data
 * dir, so tokens stay stable and encrypted data stays readable across restarts. A key file that others can
 * read is tightened to 0600.
 */
export function loadOrCreateKey(keysDir: string, name: string): Buffer {
  if (!/^[a-z0-9-]+$/.test(name)) throw new ConfigurationError(`invalid local key name "${name}"`);
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const file = path.join(keysDir, `${name}.key`);
  try {
    const fd = fs.openSync(file, "wx", 0o600);
    try {
      fs.writeSync(fd, crypto.randomBytes(LOCAL_KEY_BYTES));
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const stat = fs.statSync(file);
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  const key = fs.readFileSync(file);
  if (key.length !== LOCAL_KEY_BYTES) {
    throw new ConfigurationError(
      `local key ${file} must hold ${LOCAL_KEY_BYTES} bytes (delete it to regenerate)`,
    );
  }
  return key;
}
