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

/** One shard of the telemetry stream, as the tick schedule sees it (`ListShards`). */
export interface TickShard {
  shardId: string;
  /** The shard's lowest hash key (decimal string): a record put with this explicit hash key lands in it. */
  startingHashKey: string;
}

/** A record to put into the telemetry stream. */
export interface TickRecord {
  shardId: string;
  partitionKey: string;
  /** Routes the record to `shardId` whatever the partition key hashes to. */
  explicitHashKey: string;
  data: Uint8Array;
}

/** Partition key of every tick (routing is by `explicitHashKey`; the key only has to be valid). */
export const WINDOW_TICK_PARTITION_KEY = "driftwatch-window-tick";

/**
 * The ticks of one schedule run (AWS, ADR 0606): one per open shard, routed to it by its starting hash key. Every
 * open shard gets one, busy or idle — the scheduler cannot see which shards are idle without reading them, and a
 * tick in a busy shard costs one skipped record — so on a schedule at least as frequent as the window, every window
 * of every shard has a record and closes.
 */
export function windowTickRecords(shards: readonly TickShard[], nowMs: number): TickRecord[] {
  const data = Buffer.from(JSON.stringify(windowTickEnvelope(nowMs)), "utf8");
  return shards.map((s) => ({
    shardId: s.shardId,
    partitionKey: WINDOW_TICK_PARTITION_KEY,
    explicitHashKey: s.startingHashKey,
    data,
  }));
}
