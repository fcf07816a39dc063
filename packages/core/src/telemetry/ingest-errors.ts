import { ValidationError } from "../shared/errors.ts";

/**
 * The reasons an input can be rejected on the ingest path. Every one is a `ValidationError` (retrying cannot fix
 * it), carries a stable `code` and, where it helps, `issues` naming the offending fields. Messages and issues
 * name fields and say what is wrong; they never quote a value from the payload (values may be PHI).
 */
export type Issue = { path: string; message: string };

/** The payload is not a JSON object: empty, not UTF-8 text (`BINARY`), not JSON (`INVALID_JSON`), or not an object. */
export class MalformedPayloadError extends ValidationError {
  constructor(
    code: "EMPTY_PAYLOAD" | "BINARY" | "INVALID_JSON" | "NOT_AN_OBJECT",
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { code, cause: options.cause });
  }
}

/** The payload is JSON but does not match the schema of its topic's payload shape. */
export class SchemaValidationError extends ValidationError {
  constructor(message: string, issues: readonly Issue[], code = "SCHEMA_INVALID") {
    super(message, { code, issues });
  }
}

/** The field that names the device is absent or empty (a special case of a schema error, with its own code). */
export class MissingDeviceIdError extends SchemaValidationError {
  constructor(field: string) {
    super(
      `the device id field "${field}" is missing or empty`,
      [{ path: field, message: "required" }],
      "MISSING_DEVICE_ID",
    );
  }
}

/** A canonical payload names a different device than its topic does. */
export class DeviceMismatchError extends SchemaValidationError {
  constructor() {
    super(
      "the payload's deviceId differs from the device id in the topic",
      [{ path: "deviceId", message: "must equal the topic's device id segment" }],
      "DEVICE_MISMATCH",
    );
  }
}

/** A measurement is NaN, Infinity or -Infinity (or a number literal too large for a double). */
export class NonFiniteMetricError extends ValidationError {
  constructor(paths: readonly string[]) {
    super(`non-finite number in ${paths.join(", ")}`, {
      code: "NON_FINITE_METRIC",
      issues: paths.map((path) => ({ path, message: "must be a finite number" })),
    });
  }
}

/**
 * Nothing measurable is left of a reading once the PHI catalogue has taken its fields (a canonical reading whose
 * only metric is named `name`, say): a reading must carry at least one metric.
 */
export class NoMetricsError extends ValidationError {
  constructor(removed: readonly string[]) {
    super("the reading has no metric left after de-identification (every metric is a PHI field)", {
      code: "NO_METRICS",
      issues: removed.map((path) => ({ path, message: "removed as PHI" })),
    });
  }
}

/** No accepted payload shape is published on this topic. */
export class UnknownTopicError extends ValidationError {
  constructor() {
    super("no accepted payload shape is published on this topic", { code: "UNKNOWN_TOPIC" });
  }
}

/** The device is not in the registry. */
export class UnknownDeviceError extends ValidationError {
  readonly deviceId: string;

  constructor(deviceId: string) {
    super("the device is not registered", {
      code: "UNKNOWN_DEVICE",
      issues: [{ path: "deviceId", message: "not in the device registry" }],
    });
    this.deviceId = deviceId;
  }
}

/** The payload is larger than AWS IoT Core accepts (128 KB). */
export class PayloadTooLargeError extends ValidationError {
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number) {
    super(`payload of ${bytes} bytes exceeds the limit of ${limit} bytes`, { code: "PAYLOAD_TOO_LARGE" });
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A Firehose/Kinesis record does not hold an envelope `{topic, receivedAt, payload}`. */
export class InvalidEnvelopeError extends ValidationError {
  constructor(message: string, issues: readonly Issue[] = []) {
    super(message, { code: "INVALID_ENVELOPE", issues });
  }
}

/**
 * A message refused before the transformation: at the broker (`PAYLOAD_TOO_LARGE`, `TOPIC_TOO_LONG`,
 * `TOO_MANY_TOPIC_LEVELS`) or because a rule action failed after its retries (`RULE_ACTION_FAILED`). Built by the
 * stage that refused it, so its rejection lands in `errors/` like every other.
 */
export class RejectedMessageError extends ValidationError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, cause: options.cause });
  }
}
