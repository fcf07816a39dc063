/**
 * Remembers the identities of recent readings (`Reading.readingId`: a keyed hash of topic and payload bytes), so a
 * QoS 1 client's resend after a reconnect (MQTT DUP; AWS IoT does not deduplicate) is recognised downstream
 * (ADR 0203 "duplicate identity"). It remembers per identity the marker that saw it first; a retry of the
 * same record (same marker, e.g. a Kinesis sequence number) is not a duplicate of itself.
 *
 * Bounded: the last `capacity` identities recorded (default 200,000, ≈ 40 MB with their markers): a resend arrives
 * seconds to minutes after the original, far within that many readings of one process. The oldest is forgotten first,
 * through a ring of the identities in recording order (issue 13: evicting with `map.keys().next()` walks over every
 * entry deleted since V8 last rehashed the map, up to ~17 µs per reading once full, instead of O(1)).
 */
export class RecentReadings {
  /** readingId → its slot in the ring. */
  private readonly seen = new Map<string, number>();
  /** The ring, in recording order: identity and marker per slot (`undefined` once forgotten). */
  private readonly ids: (string | undefined)[] = [];
  private readonly markers: string[] = [];
  /** The slot the next identity is recorded in (the oldest once the ring is full). */
  private next = 0;

  constructor(private readonly capacity = 200_000) {
    if (!(capacity >= 1)) throw new RangeError("capacity must be at least 1");
  }

  /**
   * True when `readingId` was already seen under a different `marker` (a duplicate); otherwise records it and
   * returns false.
   */
  isDuplicate(readingId: string | undefined, marker = ""): boolean {
    if (readingId === undefined) return false;
    const slot = this.seen.get(readingId);
    if (slot !== undefined) return this.markers[slot] !== marker;
    const at = this.next;
    const evicted = this.ids[at];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.ids[at] = readingId;
    this.markers[at] = marker;
    this.seen.set(readingId, at);
    this.next = at + 1 === this.capacity ? 0 : at + 1;
    return false;
  }

  /** Forgets one identity (its record failed and will be retried under another marker). */
  forget(readingId: string | undefined): void {
    if (readingId === undefined) return;
    const slot = this.seen.get(readingId);
    if (slot === undefined) return;
    this.seen.delete(readingId);
    this.ids[slot] = undefined;
    this.markers[slot] = "";
  }

  get size(): number {
    return this.seen.size;
  }
}

/** Text that `encode` then `decode` would not give back as it is (empty, or holding a separator). */
const lossy = (text: string) => text === "" || text.includes(" ") || text.includes(";");

/**
 * The last `capacity` (readingId, sequence number) pairs a shard scored, carried in the window state between
 * invocations (`r`, persisted with the event source mapping's checkpoint, so it always matches the records the
 * state counts) and saved with the shard's checkpoints at window end, so that a resend straddling a restart of the
 * process (local kill -9, a new Lambda container) is still recognised (ADR 0203). ~25 KB at 500 entries.
 *
 * A ring (issue 13: `splice(0, 1)` per push moved all 500 entries once full) whose text is built once per change.
 */
export class ReadingTail {
  private readonly ids: string[] = [];
  private readonly seqs: string[] = [];
  /** Index of the oldest pair once the ring is full (0 before). */
  private start = 0;
  private text: string | undefined = "";
  private lossy = false;

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
    if (readingId === undefined || this.capacity < 1) return;
    if (lossy(readingId) || lossy(sequenceNumber)) this.lossy = true;
    this.text = undefined;
    if (this.ids.length < this.capacity) {
      this.ids.push(readingId);
      this.seqs.push(sequenceNumber);
      return;
    }
    this.ids[this.start] = readingId;
    this.seqs[this.start] = sequenceNumber;
    this.start = this.start + 1 === this.capacity ? 0 : this.start + 1;
  }

  /** Marks every pair as seen in `recent` (a later record with one of these ids and another sequence is a resend). */
  markIn(recent: RecentReadings): void {
    const n = this.ids.length;
    for (let k = 0; k < n; k++) {
      const i = this.start + k < n ? this.start + k : this.start + k - n;
      recent.isDuplicate(this.ids[i], this.seqs[i]);
    }
  }

  get size(): number {
    return this.ids.length;
  }

  /** True when `decode(encode())` gives back exactly these pairs (every id and sequence non-empty, no separator). */
  get encodesExactly(): boolean {
    return !this.lossy;
  }

  encode(): string {
    if (this.text !== undefined) return this.text;
    const n = this.ids.length;
    let text = "";
    for (let k = 0; k < n; k++) {
      const i = this.start + k < n ? this.start + k : this.start + k - n;
      text += k === 0 ? `${this.ids[i]} ${this.seqs[i]}` : `;${this.ids[i]} ${this.seqs[i]}`;
    }
    this.text = text;
    return text;
  }
}
