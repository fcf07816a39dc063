import { DriftwatchError } from "../shared/errors.ts";
import type { ArchivedVerdict } from "../backtest/archived-verdicts.ts";
import type { Reading } from "../telemetry/reading.ts";

/** A range of the lake's `readings/` to read: event time `[fromMs, toMs)`, optionally only some devices. */
export interface LakeRange {
  fromMs: number;
  toMs: number;
  /** Only these devices (all devices when absent or empty). */
  deviceIds?: readonly string[];
}

/**
 * Reads de-identified readings of a range from the lake (Athena over the Glue table on AWS, DuckDB over the same
 * gzip NDJSON files locally; both run the query text of `backtest/lake-query.ts`). Yields pages; the order of
 * readings is unspecified (the engine orders by event time). Throws `RangeTooLargeError` above the reader's
 * configured size instead of reading on until a timeout.
 */
export interface LakeReader {
  readReadings(range: LakeRange): AsyncIterable<readonly Reading[]>;
  /**
   * The archived live verdicts of a range (`scores/` records that carry `detection`, ADR 0903); same query shape
   * and limits. A reader without it gives the backtest no verdicts (it then runs the forest).
   */
  readVerdicts?(range: LakeRange): AsyncIterable<readonly ArchivedVerdict[]>;
}

/** The range holds more than a reader may return in one request: the caller must narrow it. */
export class RangeTooLargeError extends DriftwatchError {
  constructor(
    message: string,
    readonly limit: { readings?: number; bytesScanned?: number },
    options: { cause?: unknown } = {},
  ) {
    super(message, { code: "RANGE_TOO_LARGE", ...options });
  }
}
