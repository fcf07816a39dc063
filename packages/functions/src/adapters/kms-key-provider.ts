import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { DataKey, KeyProvider } from "@driftwatch/core/ports/key-provider";
import { TransientError } from "@driftwatch/core/shared/errors";
import { toDriftwatchError } from "./aws-errors.ts";

/** Encryption context bound to every vault data key (KMS checks it on Decrypt; CloudTrail logs it). */
export const VAULT_ENCRYPTION_CONTEXT = { purpose: "driftwatch-phi-vault" } as const;

/**
 * Data keys from KMS for the PHI vault's envelope encryption: `GenerateDataKey` (AES_256) under the vault key,
 * `Decrypt` to open. Core's envelope cipher caches the data key (minutes / many values), so a busy transformation
 * makes about one KMS call per container per few minutes.
 */
export class KmsKeyProvider implements KeyProvider {
  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  async generateDataKey(): Promise<DataKey> {
    try {
      const result = await this.kms.send(
        new GenerateDataKeyCommand({
          KeyId: this.keyId,
          KeySpec: "AES_256",
          EncryptionContext: { ...VAULT_ENCRYPTION_CONTEXT },
        }),
      );
      if (!result.Plaintext || !result.CiphertextBlob)
        throw new TransientError("KMS GenerateDataKey returned no key");
      return {
        keyId: result.KeyId ?? this.keyId,
        plaintext: result.Plaintext,
        encrypted: result.CiphertextBlob,
      };
    } catch (error) {
      throw toDriftwatchError(error, "KMS GenerateDataKey");
    }
  }

  async decrypt(encrypted: Uint8Array, keyId: string): Promise<Uint8Array> {
    try {
      const result = await this.kms.send(
        new DecryptCommand({
          CiphertextBlob: encrypted,
          KeyId: keyId,
          EncryptionContext: { ...VAULT_ENCRYPTION_CONTEXT },
        }),
      );
      if (!result.Plaintext) throw new TransientError("KMS Decrypt returned no plaintext");
      return result.Plaintext;
    } catch (error) {
      throw toDriftwatchError(error, "KMS Decrypt");
    }
  }
}
