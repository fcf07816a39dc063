import { DriftwatchError, ValidationError } from "../shared/errors.ts";

/** A point given to a forest or detector is unusable: wrong number of metrics, NaN or ±Infinity. */
export class InvalidPointError extends ValidationError {
  constructor(message: string, options: { issues?: readonly { path: string; message: string }[] } = {}) {
    super(message, { code: "INVALID_POINT", issues: options.issues });
  }
}

/** Forest or detector options that can never work (zero trees, negative sample size, …). */
export class InvalidForestOptionsError extends ValidationError {
  constructor(
    message: string,
    options: { cause?: unknown; issues?: readonly { path: string; message: string }[] } = {},
  ) {
    super(message, { code: "INVALID_FOREST_OPTIONS", ...options });
  }
}

/** The checkpoint was written by an unknown or newer format version; it is refused, never guessed at. */
export class CheckpointVersionError extends DriftwatchError {
  readonly version: number;
  readonly supported: number;
  constructor(version: number, supported: number) {
    super(
      `checkpoint format version ${version} is not supported (this build reads versions 1..${supported})`,
      {
        code: "CHECKPOINT_VERSION",
      },
    );
    this.version = version;
    this.supported = supported;
  }
}

/** The bytes are not a Driftwatch detector checkpoint, or they are truncated or corrupted. */
export class CheckpointFormatError extends DriftwatchError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "CHECKPOINT_FORMAT", ...options });
  }
}
