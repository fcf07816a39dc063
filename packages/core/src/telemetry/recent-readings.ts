/**
 * Remembers the identities of recent readings (`Reading.readingId`: a keyed hash of topic and payload bytes), so a
 * QoS 1 client's resend after a reconnect (MQTT DUP; AWS IoT does not deduplicate) is recognised downstream
 * (ADR 0203 "duplicate identity"). `firstSeen` answers per identity which marker saw it first; a retry of the
 * same record (same marker, e.g. a Kinesis sequence number) is not a duplicate of itself.
 *
 * Bounded LRU (`capacity` identities, default 200,000 ≈ 20 MB): a resend arrives seconds to minutes after the
 * original, far within that many readings of one process.
 */
export class RecentReadings {
  private readonly seen = new Map<string, string>();

  constructor(private readonly capacity = 200_000) {}

  /**
   * True when `readingId` was already seen under a different `marker` (a duplicate); otherwise records it and
   * returns false.
   */
  isDuplicate(readingId: string | undefined, marker = ""): boolean {
    if (readingId === undefined) return false;
    const first = this.seen.get(readingId);
    if (first !== undefined) return first !== marker;
    if (this.seen.size >= this.capacity) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(readingId, marker);
    return false;
  }

  /** Forgets one identity (its record failed and will be retried under another marker). */
  forget(readingId: string | undefined): void {
    if (readingId !== undefined) this.seen.delete(readingId);
  }

  get size(): number {
    return this.seen.size;
  }
}

/**
 * The last `capacity` (readingId, sequence number) pairs a shard scored, carried in the window state between
 * invocations (`r`, persisted with the event source mapping's checkpoint, so it always matches the records the
 * state counts) and saved with the shard's checkpoints at window end, so that a resend straddling a restart of the
 * process (local kill -9, a new Lambda container) is still recognised (ADR 0203). ~25 KB at 500 entries.
 */
export class ReadingTail {
  private entries: [string, string][] = [];

  constructor(private readonly capacity = 500) {}

  static decode(text: unknown, capacity?: number): ReadingTail {
    const tail = new ReadingTail(capacity);
    if (typeof text !== "string" || text === "") return tail;
    for (const pair of text.split(";")) {
      const [id, seq] = pair.split(" ");
      if (id && seq) tail.push(id, seq);
    }
    return tail;
  }

  push(readingId: string | undefined, sequenceNumber: string): void {
    if (readingId === undefined) return;
    this.entries.push([readingId, sequenceNumber]);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Marks every pair as seen in `recent` (a later record with one of these ids and another sequence is a resend). */
  markIn(recent: RecentReadings): void {
    for (const [id, seq] of this.entries) recent.isDuplicate(id, seq);
  }

  get size(): number {
    return this.entries.length;
  }

  encode(): string {
    return this.entries.map(([id, seq]) => `${id} ${seq}`).join(";");
  }
}
