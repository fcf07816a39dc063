import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { describe, expect, it } from "vitest";
import { createEnvelopeCipher } from "@driftwatch/core/privacy/envelope-cipher";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";
import { KmsKeyProvider, VAULT_ENCRYPTION_CONTEXT } from "../../src/adapters/kms-key-provider.ts";
import { TOKEN_KEY_DERIVATION_MESSAGE, deriveTokenKey } from "../../src/adapters/kms-token-key.ts";

/**
 * A stand-in for the KMS service (there is no KMS emulator here): keeps key material, enforces the encryption
 * context and key id like KMS does, and fails on demand with KMS's error names. The adapters under test are real.
 */
function fakeKms(options: { failWith?: string } = {}) {
  const keys = new Map([
    ["arn:aws:kms:us-east-1:123456789012:key/vault", randomBytes(32)],
    ["arn:aws:kms:us-east-1:123456789012:key/token", randomBytes(32)],
  ]);
  const calls: string[] = [];
  const fail = (name: string) => Object.assign(new Error(name), { name });
  const client = {
    async send(command: unknown) {
      calls.push((command as object).constructor.name);
      if (options.failWith) throw fail(options.failWith);
      if (command instanceof GenerateDataKeyCommand) {
        const kek = keys.get(command.input.KeyId!);
        if (!kek) throw fail("NotFoundException");
        const plaintext = randomBytes(32);
        const iv = randomBytes(12);
        const cipher = createCipheriv("aes-256-gcm", kek, iv);
        cipher.setAAD(Buffer.from(JSON.stringify(command.input.EncryptionContext)));
        const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        return {
          KeyId: command.input.KeyId,
          Plaintext: new Uint8Array(plaintext),
          CiphertextBlob: new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), body])),
        };
      }
      if (command instanceof DecryptCommand) {
        const kek = keys.get(command.input.KeyId!);
        if (!kek) throw fail("NotFoundException");
        const blob = Buffer.from(command.input.CiphertextBlob!);
        const decipher = createDecipheriv("aes-256-gcm", kek, blob.subarray(0, 12));
        decipher.setAAD(Buffer.from(JSON.stringify(command.input.EncryptionContext)));
        decipher.setAuthTag(blob.subarray(12, 28));
        try {
          return {
            Plaintext: new Uint8Array(Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()])),
          };
        } catch {
          throw fail("InvalidCiphertextException");
        }
      }
      if (command instanceof GenerateMacCommand) {
        const key = keys.get(command.input.KeyId!);
        if (!key) throw fail("NotFoundException");
        return {
          Mac: new Uint8Array(createHmac("sha256", key).update(Buffer.from(command.input.Message!)).digest()),
        };
      }
      throw fail("UnsupportedOperationException");
    },
  };
  return { client: client as unknown as KMSClient, calls };
}

describe("KmsKeyProvider", () => {
  it("seals and opens through KMS data keys with the vault encryption context, one KMS call per data key", async () => {
    const kms = fakeKms();
    const cipher = createEnvelopeCipher({
      keyProvider: new KmsKeyProvider(kms.client, "arn:aws:kms:us-east-1:123456789012:key/vault"),
    });
    const sealed = await Promise.all(Array.from({ length: 50 }, (_, i) => cipher.seal(`value-${i}`, "aad")));
    expect(kms.calls.filter((call) => call === "GenerateDataKeyCommand")).toHaveLength(1);
    expect(sealed[0].keyId).toBe("arn:aws:kms:us-east-1:123456789012:key/vault");
    const reader = createEnvelopeCipher({
      keyProvider: new KmsKeyProvider(kms.client, "arn:aws:kms:us-east-1:123456789012:key/vault"),
    });
    expect(Buffer.from(await reader.open(sealed[7], "aad")).toString()).toBe("value-7");
    expect(VAULT_ENCRYPTION_CONTEXT).toEqual({ purpose: "driftwatch-phi-vault" });
  });

  it("maps KMS failures: throttling is transient, access denied is configuration", async () => {
    await expect(
      new KmsKeyProvider(fakeKms({ failWith: "ThrottlingException" }).client, "k").generateDataKey(),
    ).rejects.toBeInstanceOf(TransientError);
    await expect(
      new KmsKeyProvider(fakeKms({ failWith: "AccessDeniedException" }).client, "k").generateDataKey(),
    ).rejects.toBeInstanceOf(ConfigurationError);
    await expect(
      new KmsKeyProvider(fakeKms().client, "arn:missing").generateDataKey(),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe("deriveTokenKey", () => {
  it("is deterministic per KMS key (stable tokens across containers) and differs across keys", async () => {
    const kms = fakeKms();
    const a = await deriveTokenKey(kms.client, "arn:aws:kms:us-east-1:123456789012:key/token");
    const b = await deriveTokenKey(kms.client, "arn:aws:kms:us-east-1:123456789012:key/token");
    const c = await deriveTokenKey(kms.client, "arn:aws:kms:us-east-1:123456789012:key/vault");
    expect(a).toHaveLength(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    expect(TOKEN_KEY_DERIVATION_MESSAGE).toBe("driftwatch/token-key/v1");
  });

  it("fails as transient when KMS is unavailable", async () => {
    await expect(
      deriveTokenKey(fakeKms({ failWith: "KMSInternalException" }).client, "k"),
    ).rejects.toBeInstanceOf(TransientError);
  });
});
