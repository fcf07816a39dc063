import { ConfigurationError, DriftwatchError, TransientError } from "@driftwatch/core/shared/errors";

/** AWS error names that no retry fixes: the deployment is wrong (permissions, missing resource, bad key). */
const CONFIGURATION_ERRORS = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "ResourceNotFoundException",
  "NoSuchBucket",
  "StateMachineDoesNotExist",
  "InvalidArn",
  "InvalidName",
  "NotFoundException",
  "DisabledException",
  "InvalidKeyUsageException",
  "KMSInvalidStateException",
  "IncorrectKeyException",
  "ValidationException",
]);

/**
 * Maps an AWS SDK failure to a Driftwatch error: `ConfigurationError` for what a retry cannot fix, otherwise
 * `TransientError` (throttling, timeouts, 5xx, network). Messages name the operation, never the data.
 */
export function toDriftwatchError(error: unknown, operation: string): DriftwatchError {
  if (error instanceof DriftwatchError) return error;
  const name = error instanceof Error ? error.name : "UnknownError";
  if (CONFIGURATION_ERRORS.has(name))
    return new ConfigurationError(`${operation} failed: ${name}`, { cause: error });
  return new TransientError(`${operation} failed: ${name}`, { cause: error });
}
