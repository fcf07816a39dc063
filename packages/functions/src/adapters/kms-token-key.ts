import { GenerateMacCommand, type KMSClient } from "@aws-sdk/client-kms";
import { TransientError } from "@driftwatch/core/shared/errors";
import { toDriftwatchError } from "./aws-errors.ts";

/** The fixed message whose MAC is the token key. Changing it changes every token: never change it. */
export const TOKEN_KEY_DERIVATION_MESSAGE = "driftwatch/token-key/v1";

/**
 * The HMAC key for identifier tokens, derived once per container: `GenerateMac(HMAC_SHA_256)` of a fixed message
 * under the stage's HMAC KMS key (KeySpec HMAC_256, usage GENERATE_VERIFY_MAC). Deterministic — the same key
 * yields the same token key on every run, so tokens are stable across containers and deploys — while the key
 * material never leaves KMS and only roles allowed `kms:GenerateMac` on that key can derive it. No secret to
 * store or rotate by hand; CloudTrail records every derivation.
 */
export async function deriveTokenKey(kms: KMSClient, keyId: string): Promise<Uint8Array> {
  try {
    const result = await kms.send(
      new GenerateMacCommand({
        KeyId: keyId,
        MacAlgorithm: "HMAC_SHA_256",
        Message: Buffer.from(TOKEN_KEY_DERIVATION_MESSAGE, "utf8"),
      }),
    );
    if (!result.Mac || result.Mac.length < 32) throw new TransientError("KMS GenerateMac returned no MAC");
    return result.Mac;
  } catch (error) {
    throw toDriftwatchError(error, "KMS GenerateMac");
  }
}
