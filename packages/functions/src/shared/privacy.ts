import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { Clock } from "@driftwatch/core/ports/clock";
import type { KeyProvider } from "@driftwatch/core/ports/key-provider";
import type { PhiVaultStore } from "@driftwatch/core/ports/phi-vault-store";
import {
  createDeidentifier,
  defaultPhiCatalogue,
  phiCatalogueSchema,
  type Deidentifier,
  type PhiCatalogue,
} from "@driftwatch/core/privacy/deidentifier";
import {
  createEncryptedPhiVault,
  type EncryptedPhiVault,
} from "@driftwatch/core/privacy/encrypted-phi-vault";
import { createEnvelopeCipher } from "@driftwatch/core/privacy/envelope-cipher";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { DynamoPhiVaultStore } from "../adapters/dynamo-phi-vault.ts";
import { KmsKeyProvider } from "../adapters/kms-key-provider.ts";
import { deriveTokenKey } from "../adapters/kms-token-key.ts";
import { json, optional, readConfig, required } from "./config.ts";

/**
 * How handlers obtain de-identification on AWS (ingest transformation, scoring) and how local mode assembles the
 * same objects from its own key material.
 *
 * Environment:
 *   PHI_CATALOGUE  JSON `{"vault":[…],"tokenize":[…]}` (default seed 003: vault name, dob; tokenize patient_id)
 *   TOKEN_KEY_ID   HMAC_256 KMS key; the token key is derived from it (see adapters/kms-token-key.ts)
 *   VAULT_KEY_ID   symmetric KMS key for the vault's data keys      (only when the vault is used)
 *   VAULT_TABLE    the PhiVault table                               (only when the vault is used)
 */
export interface Privacy {
  catalogue: PhiCatalogue;
  deidentifier: Deidentifier;
  /** Present when built with a vault store and key provider. */
  vault?: EncryptedPhiVault;
}

/** Reads `PHI_CATALOGUE` (JSON) or returns the default catalogue. */
export function readPhiCatalogue(env: NodeJS.ProcessEnv = process.env): PhiCatalogue {
  return readConfig({ PHI_CATALOGUE: json(phiCatalogueSchema, defaultPhiCatalogue) }, env).PHI_CATALOGUE;
}

/** Assembles de-identification (and the vault, given its store and key provider) from parts. Local mode uses this. */
export function createPrivacy(options: {
  catalogue: PhiCatalogue;
  tokenKey: Uint8Array;
  vaultStore?: PhiVaultStore;
  keyProvider?: KeyProvider;
  clock?: Clock;
}): Privacy {
  const deidentifier = createDeidentifier({ catalogue: options.catalogue, tokenKey: options.tokenKey });
  const privacy: Privacy = { catalogue: deidentifier.catalogue, deidentifier };
  if (options.vaultStore !== undefined && options.keyProvider !== undefined) {
    const cipher = createEnvelopeCipher({ keyProvider: options.keyProvider, clock: options.clock });
    privacy.vault = createEncryptedPhiVault({ store: options.vaultStore, cipher, clock: options.clock });
  }
  return privacy;
}

/** The environment variables de-identification needs; merge into a handler's `readConfig` shape. */
export function privacyConfigShape(withVault: boolean) {
  return {
    PHI_CATALOGUE: json(phiCatalogueSchema, defaultPhiCatalogue),
    TOKEN_KEY_ID: required(),
    VAULT_KEY_ID: withVault ? required() : optional(),
    VAULT_TABLE: withVault ? required() : optional(),
  };
}
export type PrivacyConfig = {
  PHI_CATALOGUE: PhiCatalogue;
  TOKEN_KEY_ID: string;
  VAULT_KEY_ID?: string;
  VAULT_TABLE?: string;
};

/**
 * De-identification on AWS: derives the token key with KMS (one call per container) and, with `vault: true`
 * (default), wires the vault to DynamoDB and KMS data keys. Reads `privacyConfigShape` from the environment
 * unless `config` is given; throws `ConfigurationError` listing every missing variable.
 */
export async function createAwsPrivacy(options: {
  vault?: boolean;
  config?: PrivacyConfig;
  env?: NodeJS.ProcessEnv;
  /** The caller's clients (built once per cold start by its composition module, traced). */
  kms: KMSClient;
  dynamo: DynamoDBClient;
}): Promise<Privacy> {
  const withVault = options.vault ?? true;
  const config: PrivacyConfig =
    options.config ?? readConfig(privacyConfigShape(withVault), options.env ?? process.env);
  const { kms, dynamo } = options;
  const tokenKey = await deriveTokenKey(kms, config.TOKEN_KEY_ID);
  if (!withVault) return createPrivacy({ catalogue: config.PHI_CATALOGUE, tokenKey });
  if (config.VAULT_TABLE === undefined || config.VAULT_KEY_ID === undefined) {
    throw new ConfigurationError(
      "invalid configuration: VAULT_TABLE and VAULT_KEY_ID are required for the PHI vault",
    );
  }
  return createPrivacy({
    catalogue: config.PHI_CATALOGUE,
    tokenKey,
    vaultStore: new DynamoPhiVaultStore(dynamo, config.VAULT_TABLE),
    keyProvider: new KmsKeyProvider(kms, config.VAULT_KEY_ID),
  });
}
