import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createEnvelopeCipher } from "@driftwatch/core/privacy/envelope-cipher";
import { DecryptionFailedError, open, seal, sealedKeyId } from "@driftwatch/core/privacy/aes-gcm";
import { loadOrCreateKey } from "../../src/storage/key-files.ts";
import { createVaultKeyProvider } from "../../src/storage/local-key-provider.ts";
import { createZoneCipher } from "../../src/storage/zone-cipher.ts";

const dirs: string[] = [];
const tempKeys = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-keys-"));
  dirs.push(dir);
  return path.join(dir, "keys");
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("local key files", () => {
  it("creates a 32-byte key readable by the owner only, and returns the same key afterwards", () => {
    const dir = tempKeys();
    const first = loadOrCreateKey(dir, "vault");
    expect(first).toHaveLength(32);
    expect(fs.statSync(path.join(dir, "vault.key")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(loadOrCreateKey(dir, "vault").equals(first)).toBe(true);
    expect(loadOrCreateKey(dir, "token").equals(first)).toBe(false);
  });

  it("tightens a key file that others can read", () => {
    const dir = tempKeys();
    loadOrCreateKey(dir, "raw-zone");
    fs.chmodSync(path.join(dir, "raw-zone.key"), 0o644);
    loadOrCreateKey(dir, "raw-zone");
    expect(fs.statSync(path.join(dir, "raw-zone.key")).mode & 0o777).toBe(0o600);
  });

  it("refuses a key file of the wrong length", () => {
    const dir = tempKeys();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "vault.key"), "short");
    expect(() => loadOrCreateKey(dir, "vault")).toThrow(/must hold 32 bytes/);
  });
});

describe("AES-256-GCM sealed boxes", () => {
  const key = Buffer.alloc(32, 7);
  it("round-trips and names its key", () => {
    const blob = seal(key, "raw-zone", Buffer.from("Eugenia Gottlieb"));
    expect(blob.includes(Buffer.from("Eugenia"))).toBe(false);
    expect(sealedKeyId(blob)).toBe("raw-zone");
    expect(open(key, blob).plaintext.toString()).toBe("Eugenia Gottlieb");
  });

  it("rejects tampering, another key, a forged key id and truncation", () => {
    const blob = seal(key, "raw-zone", Buffer.from("payload"));
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 1] ^= 1;
    expect(() => open(key, flipped)).toThrow(DecryptionFailedError);
    expect(() => open(Buffer.alloc(32, 8), blob)).toThrow(DecryptionFailedError);
    const forged = Buffer.from(blob);
    forged[5] = "s".charCodeAt(0); // "raw-zone" → "saw-zone": the key id is authenticated
    expect(() => open(key, forged)).toThrow(DecryptionFailedError);
    expect(() => open(key, blob.subarray(0, 20))).toThrow(/truncated/);
    expect(() => open(key, Buffer.from("not sealed at all"))).toThrow(/not a Driftwatch/);
  });
});

describe("createVaultKeyProvider", () => {
  it("wraps data keys under the local vault key and works with core's envelope cipher across restarts", async () => {
    const dir = tempKeys();
    const provider = createVaultKeyProvider(dir);
    const dataKey = await provider.generateDataKey();
    expect(dataKey.plaintext).toHaveLength(32);
    expect(Buffer.from(dataKey.encrypted).includes(Buffer.from(dataKey.plaintext))).toBe(false);
    expect(Buffer.from(await provider.decrypt(dataKey.encrypted, dataKey.keyId))).toEqual(
      Buffer.from(dataKey.plaintext),
    );

    const sealed = await createEnvelopeCipher({ keyProvider: provider }).seal("08/27/1977", "aad");
    // A new process (same data dir) opens what the earlier one sealed.
    const reopened = await createEnvelopeCipher({ keyProvider: createVaultKeyProvider(dir) }).open(
      sealed,
      "aad",
    );
    expect(Buffer.from(reopened).toString("utf8")).toBe("08/27/1977");
    await expect(provider.decrypt(dataKey.encrypted, "arn:aws:kms:other")).rejects.toThrow(
      /holds "local:vault"/,
    );
  });
});

describe("createZoneCipher", () => {
  it("seals with the zone's own key, distinct from the vault's", () => {
    const dir = tempKeys();
    const raw = createZoneCipher(dir, "raw");
    const blob = raw.encrypt(Buffer.from("x"));
    expect(raw.decrypt(blob).toString()).toBe("x");
    expect(fs.existsSync(path.join(dir, "raw-zone.key"))).toBe(true);
    expect(() => open(loadOrCreateKey(dir, "vault"), blob)).toThrow(DecryptionFailedError);
  });
});
