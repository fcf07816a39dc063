import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";

/** Reads a secret's string value (once per cold start; callers memoize with `lazy`). */
export async function readSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException" || name === "AccessDeniedException") {
      throw new ConfigurationError(`secret is not readable (${name})`, { cause: error });
    }
    throw new TransientError("reading secret failed", { cause: error });
  }
  if (!value) throw new ConfigurationError("secret has no string value");
  return value;
}
