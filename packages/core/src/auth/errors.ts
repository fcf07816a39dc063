import { DriftwatchError } from "../shared/errors.ts";

/** No credentials, or credentials that do not verify (bad signature, expired, wrong issuer). HTTP 401. */
export class UnauthorizedError extends DriftwatchError {
  readonly statusCode = 401;
}

/** Authenticated, but the principal's role does not allow the request (a viewer's write). HTTP 403. */
export class ForbiddenError extends DriftwatchError {
  readonly statusCode = 403;
}
