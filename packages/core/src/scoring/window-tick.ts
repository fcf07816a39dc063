import { encodeEnvelope, type Envelope } from "../telemetry/envelope.ts";

/**
 * A window tick: a record with no reading, put into a shard of the telemetry stream that has been idle for a whole
 * window, so the event source mapping closes its windows (a final invoke per window) and the silence rule runs even
 * when a whole fleet stops publishing (Lambda only invokes a shard that has records; ADR 0600, ADR 0606). The
 * scorer skips ticks: they are not readings, not rejected, not archived, and they teach presence nothing.
 *
 * The topic starts with `$`, which AWS IoT reserves and no topic rule (nor local mode's routing) forwards, so a
 * device cannot publish one.
 */
export const WINDOW_TICK_TOPIC = "$driftwatch/window-tick";

export function windowTickEnvelope(nowMs: number): Envelope {
  return encodeEnvelope(WINDOW_TICK_TOPIC, "{}", nowMs);
}

export function isWindowTick(envelope: Pick<Envelope, "topic">): boolean {
  return envelope.topic === WINDOW_TICK_TOPIC;
}
