import { DriftwatchError, TransientError, ValidationError } from "../shared/errors.ts";

/** No incident with that id. */
export class IncidentNotFoundError extends DriftwatchError {
  readonly statusCode = 404;
}

/**
 * The open-incident pointer names an incident whose item is not written yet (its opener is between its two
 * writes). Retried by the state machine.
 */
export class IncidentNotReadyError extends TransientError {}

/** The requested change does not apply to the incident's state (e.g. acknowledging a resolved incident). */
export class IncidentStateConflictError extends DriftwatchError {
  readonly statusCode = 409;
}

/** A person's name or id for `acknowledgedBy`/`resolvedBy` is missing or unusable. */
export class InvalidActorError extends ValidationError {
  readonly statusCode = 400;
}
