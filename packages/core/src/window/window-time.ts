/**
 * Tumbling-window arithmetic. Lambda (and the local event-source-mapping emulator) assign a Kinesis record to
 * a window by the time it was written to the stream (`approximateArrivalTimestamp`), aligned to multiples of the
 * window length since the epoch — the same grid as the seed's `FLOOR((ROWTIME - epoch) SECOND / 60 TO SECOND)`.
 */
export function windowStartOf(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

export interface WindowBounds {
  startMs: number;
  endMs: number;
}

export function windowOf(timeMs: number, windowMs: number): WindowBounds {
  const startMs = windowStartOf(timeMs, windowMs);
  return { startMs, endMs: startMs + windowMs };
}

/** Parses the ISO 8601 bounds Lambda puts in `event.window`. */
export function parseWindow(window: { start: string; end: string }): WindowBounds {
  const startMs = Date.parse(window.start);
  const endMs = Date.parse(window.end);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs) {
    throw new RangeError(`invalid window bounds ${window.start} … ${window.end}`);
  }
  return { startMs, endMs };
}
