/**
 * Base class of every error Driftwatch raises on purpose. The `name` is the class name, so Step Functions
 * Retry/Catch, logs and API mappers can match on it. `cause` keeps the underlying error.
 *
 * Messages must never contain PHI: callers pass field names and reasons, never values of catalogued fields.
 */
export class DriftwatchError extends Error {
  /** A short, stable, machine-readable code, e.g. `INVALID_JSON`. */
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? new.target.name;
  }
}

/** Input that can never succeed however often it is retried (bad payload, unknown device, …). */
export class ValidationError extends DriftwatchError {
  /** Paths of the offending fields, for error records. */
  readonly issues: readonly { path: string; message: string }[];

  constructor(
    message: string,
    options: { code?: string; cause?: unknown; issues?: readonly { path: string; message: string }[] } = {},
  ) {
    super(message, options);
    this.issues = options.issues ?? [];
  }
}

/** A configuration value is missing or malformed. Raised once at cold start. */
export class ConfigurationError extends DriftwatchError {}

/** A dependency (table, stream, key service) failed in a way a retry may fix. */
export class TransientError extends DriftwatchError {}
