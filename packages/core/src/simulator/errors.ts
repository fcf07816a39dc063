import { ValidationError } from "../shared/errors.ts";

/** A simulator option (device types, anomaly kinds, rate, counts) is out of range or unknown. */
export class InvalidSimulationOptionError extends ValidationError {
  constructor(message: string, options: { option: string; cause?: unknown }) {
    super(message, {
      code: "INVALID_SIMULATION_OPTION",
      cause: options.cause,
      issues: [{ path: options.option, message }],
    });
  }
}

/** A ground-truth JSONL line is not JSON or not a label. */
export class InvalidGroundTruthError extends ValidationError {
  constructor(message: string, options: { line: number; cause?: unknown }) {
    super(message, {
      code: "INVALID_GROUND_TRUTH",
      cause: options.cause,
      issues: [{ path: `line ${options.line}`, message }],
    });
  }
}
