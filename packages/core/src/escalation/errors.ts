import { DriftwatchError, TransientError, ValidationError } from "../shared/errors.ts";

/** A channel failed in a way a retry may fix (timeout, 5xx, throttling). The state machine retries it by name. */
export class ChannelUnavailableError extends TransientError {}

/** A channel refused the notification for good (4xx, unknown channel); the state machine moves to the next one. */
export class ChannelRejectedError extends ValidationError {}

/** The policy catalogue or a channel configuration is malformed. */
export class PolicyConfigurationError extends ValidationError {}

/** Acknowledgement link: malformed or not signed by us. */
export class AckLinkInvalidError extends DriftwatchError {
  readonly statusCode = 400;
}

/** Acknowledgement link: past its expiry. */
export class AckLinkExpiredError extends DriftwatchError {
  readonly statusCode = 410;
}

/** Acknowledgement link: already used once. */
export class AckLinkUsedError extends DriftwatchError {
  readonly statusCode = 409;
}
