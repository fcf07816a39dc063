import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * An in-process Kinesis data stream with Kinesis's semantics where the scoring path depends on them: a record goes
 * to the shard whose hash-key range holds the MD5 of its partition key; each shard orders its records by a
 * monotonically increasing sequence number; `approximateArrivalTimestamp` is the time the put was accepted.
 *
 * Durable: every put is appended (synchronously, before `put` returns) to the shard's log under `dir`, so a restart
 * re-reads whatever the event source mapping had not acknowledged. Log segments wholly below the consumer's
 * checkpoint, or older than the retention, are deleted. (Why not kinesalite: ~3–4k puts/s here, see ADR 0604.)
 *
 * Encrypted at rest when given a `cipher` (local mode always does, with the stream's own key, as the `telemetry`
 * stream uses KMS server-side encryption on AWS): record data holds original payloads, PHI included, so the log
 * files hold only sealed data and sealed partition keys (a device id can be PHI when a sender puts a name there);
 * records are opened again when a restart re-reads the log.
 */
export interface StreamRecordStored {
  sequenceNumber: string;
  partitionKey: string;
  arrivalMs: number;
  /** Base64 of the record data, as in Lambda's event. */
  data: string;
}

export interface LocalStreamOptions {
  dir: string;
  streamName: string;
  shardCount?: number;
  /** Records per log segment file. */
  segmentRecords?: number;
  retentionHours?: number;
  clock?: () => number;
  /** Seals record data in the log files (AES-256-GCM with the stream's key in local mode). */
  cipher?: StreamCipher;
}

export interface StreamCipher {
  encrypt(plaintext: Uint8Array): Buffer;
  decrypt(sealed: Uint8Array): Buffer;
}

/**
 * A line of the log: one record (`put`), `data` sealed (base64 of the sealed bytes) when `sealed` is set; or a
 * group of records appended together (`putQueued`): `group` is the records' JSON array, sealed as ONE blob (base64)
 * when the stream has a cipher — one seal and one write per group instead of two seals and a write per record.
 */
interface GroupLine {
  group: string | StreamRecordStored[];
}

interface StoredLine extends StreamRecordStored {
  /** `true`: data sealed; `2`: data and partition key sealed (a partition key is a device id, which can be PHI). */
  sealed?: true | 2;
}

const HASH_SPACE = 1n << 128n;

/**
 * Compares two sequence numbers as numbers without parsing them (issue 13: a BigInt per record per read and trim):
 * a shorter decimal string is the smaller number, equal lengths compare as strings. (This stream's are all 44 digits.)
 */
function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
/** `4960` + shard index (10 digits) + counter (30 digits): fixed width, so strings sort like the numbers. */
const SEQ_PREFIX = 4960n * 10n ** 40n;

interface Shard {
  id: string;
  index: number;
  records: StreamRecordStored[];
  counter: bigint;
  fd?: number;
  segmentCount: number;
  segmentFile?: string;
  /** Segment files with the last counter each holds. */
  segments: { file: string; lastCounter: bigint; lastArrivalMs: number }[];
}

export class LocalKinesisStream {
  readonly streamName: string;
  readonly streamArn: string;
  private readonly shards: Shard[];
  private readonly listeners = new Set<(shardId: string) => void>();
  private readonly segmentRecords: number;
  private readonly retentionMs: number;
  private readonly clock: () => number;
  private lastArrival = 0;
  /** Records of `putQueued` not yet appended (group commit on the next turn of the event loop). */
  private queued: { shard: Shard; record: StreamRecordStored; done?: (error?: Error) => void }[] = [];
  /** Per shard, the promise the `putQueuedShared` records queued since the last flush share. */
  private sharedAcks = new Map<Shard, { promise: Promise<void>; settle: (error?: Error) => void }>();
  private flushScheduled = false;
  private backlogWaiters: { limit: number; resolve: () => void }[] = [];
  private readonly shardIndexCache = new Map<string, number>();
  /** Per consumer: the last sequence number it acknowledged, per shard. */
  private readonly acknowledged = new Map<string, Map<string, bigint>>();

  constructor(private readonly options: LocalStreamOptions) {
    this.streamName = options.streamName;
    this.streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${options.streamName}`;
    this.segmentRecords = options.segmentRecords ?? 10_000;
    this.retentionMs = (options.retentionHours ?? 24) * 3_600_000;
    this.clock = options.clock ?? Date.now;
    const count = options.shardCount ?? 1;
    this.shards = Array.from({ length: count }, (_, index) => this.openShard(index));
  }

  get shardIds(): string[] {
    return this.shards.map((s) => s.id);
  }

  /** The shard a partition key maps to (MD5 → 128-bit hash key → evenly split hash key ranges). */
  shardFor(partitionKey: string): string {
    return this.shards[this.shardIndexOf(partitionKey)].id;
  }

  /** `shardFor`'s index, remembered per partition key (a fleet's device ids: the MD5 once per device, not per put). */
  private shardIndexOf(partitionKey: string): number {
    let index = this.shardIndexCache.get(partitionKey);
    if (index === undefined) {
      const hash = BigInt(`0x${createHash("md5").update(partitionKey, "utf8").digest("hex")}`);
      index = Number((hash * BigInt(this.shards.length)) / HASH_SPACE);
      if (this.shardIndexCache.size >= 100_000) this.shardIndexCache.clear();
      this.shardIndexCache.set(partitionKey, index);
    }
    return index;
  }

  /** PutRecord: appended durably before it returns. */
  put(partitionKey: string, data: Uint8Array | string): { shardId: string; sequenceNumber: string } {
    this.flushQueued(); // records queued earlier keep their place in the log
    const { shard, record } = this.newRecord(partitionKey, data);
    this.append(shard, record);
    shard.records.push(record);
    for (const listener of this.listeners) listener(shard.id);
    return { shardId: shard.id, sequenceNumber: record.sequenceNumber };
  }

  /**
   * PutRecord with group commit (the rule's Kinesis action in local mode): the sequence number and arrival time are
   * assigned now; the record is appended on the next turn of the event loop together with every other record
   * queued in the same turn — per shard, one sealed line and one write — and the promise resolves once it is in
   * the log (readable, durable to the OS page cache), as `put` is when it returns.
   */
  putQueued(
    partitionKey: string,
    data: Uint8Array | string,
  ): Promise<{ shardId: string; sequenceNumber: string }> {
    const { shard, record } = this.newRecord(partitionKey, data);
    return new Promise((resolve, reject) => {
      this.queued.push({
        shard,
        record,
        done: (error) =>
          error ? reject(error) : resolve({ shardId: shard.id, sequenceNumber: record.sequenceNumber }),
      });
      this.scheduleFlush();
    });
  }

  /**
   * `putQueued` for a caller that needs no sequence number (the rule's Kinesis action in local mode): the same
   * record, queue and group commit, but the records of one shard queued in the same turn share one promise, which
   * resolves once they are in the log (issue 13: a promise, a closure and a result object per message less).
   */
  putQueuedShared(partitionKey: string, data: Uint8Array | string): Promise<void> {
    const { shard, record } = this.newRecord(partitionKey, data);
    let ack = this.sharedAcks.get(shard);
    if (ack === undefined) {
      let settle!: (error?: Error) => void;
      const promise = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
      ack = { promise, settle };
      this.sharedAcks.set(shard, ack);
    }
    this.queued.push({ shard, record });
    this.scheduleFlush();
    return ack.promise;
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushQueued());
    }
  }

  /** Records held (in memory) that some consumer has not acknowledged yet, queued ones included. */
  backlog(): number {
    let held = this.queued.length;
    for (const shard of this.shards) held += shard.records.length;
    return held;
  }

  /**
   * Resolves once `backlog()` is below `limit` (consumers acknowledged enough): the rule's Kinesis action waits
   * here, so a backlog pushes back on the publishers through the broker instead of growing without bound in RAM.
   */
  whenBacklogBelow(limit: number): Promise<void> {
    if (this.backlog() < limit) return Promise.resolve();
    return new Promise((resolve) => this.backlogWaiters.push({ limit, resolve }));
  }

  private newRecord(
    partitionKey: string,
    data: Uint8Array | string,
  ): { shard: Shard; record: StreamRecordStored } {
    if (partitionKey.length === 0 || partitionKey.length > 256)
      throw new RangeError("partition key must be 1-256 characters");
    const shard = this.shards.length === 1 ? this.shards[0] : this.shards[this.shardIndexOf(partitionKey)];
    shard.counter += 1n;
    // Arrival times never go backwards within the stream (a clock step back would reorder windows).
    const arrivalMs = Math.max(this.clock(), this.lastArrival);
    this.lastArrival = arrivalMs;
    const record: StreamRecordStored = {
      sequenceNumber: (SEQ_PREFIX + BigInt(shard.index) * 10n ** 30n + shard.counter).toString(),
      partitionKey,
      arrivalMs,
      data:
        typeof data === "string"
          ? data
          : // A view, not a copy (Buffer.from(Uint8Array) copies the bytes).
            Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"),
    };
    return { shard, record };
  }

  /** Appends every queued record: one group line per shard, in queue (= sequence) order. */
  private flushQueued(): void {
    this.flushScheduled = false;
    if (this.queued.length === 0) return;
    const items = this.queued;
    this.queued = [];
    const acks = this.sharedAcks;
    this.sharedAcks = new Map();
    for (const shard of this.shards) {
      const mine = this.shards.length === 1 ? items : items.filter((item) => item.shard === shard);
      if (mine.length === 0) continue;
      const records = mine.map((item) => item.record);
      try {
        this.appendGroup(shard, records);
      } catch (error) {
        for (const item of mine) item.done?.(error as Error);
        acks.get(shard)?.settle(error as Error);
        continue;
      }
      for (const record of records) shard.records.push(record);
      for (const item of mine) item.done?.();
      acks.get(shard)?.settle();
      for (const listener of this.listeners) listener(shard.id);
    }
  }

  /** Records of `shardId` after `afterSequenceNumber` (exclusive; all when null), at most `limit`. */
  read(shardId: string, afterSequenceNumber: string | null, limit: number): StreamRecordStored[] {
    const records = this.shard(shardId).records;
    let start = 0;
    if (afterSequenceNumber !== null) {
      const after = BigInt(afterSequenceNumber).toString();
      // Binary search: sequence numbers ascend, and (fixed width) their strings sort like the numbers.
      let lo = 0;
      let hi = records.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareSequence(records[mid].sequenceNumber, after) <= 0) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    return records.slice(start, start + limit);
  }

  onRecord(listener: (shardId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Declares a consumer (an event source mapping) before any consumer acknowledges, so records are kept until every
   * declared consumer has acknowledged them (the scorer and the stream-fed lake writer read the same stream).
   */
  registerConsumer(name: string): void {
    if (!this.acknowledged.has(name)) this.acknowledged.set(name, new Map());
  }

  /**
   * `consumer` acknowledged records up to `sequenceNumber`: drops the records every declared consumer has
   * acknowledged and deletes fully consumed segments (one consumer: its acknowledgement alone).
   */
  trim(shardId: string, sequenceNumber: string, consumer = "default"): void {
    this.registerConsumer(consumer);
    this.acknowledged.get(consumer)!.set(shardId, BigInt(sequenceNumber));
    let upTo: bigint | undefined;
    for (const positions of this.acknowledged.values()) {
      const position = positions.get(shardId);
      if (position === undefined) return;
      if (upTo === undefined || position < upTo) upTo = position;
    }
    if (upTo === undefined) return;
    const shard = this.shard(shardId);
    const upToText = upTo.toString();
    let drop = 0;
    while (drop < shard.records.length && compareSequence(shard.records[drop].sequenceNumber, upToText) <= 0)
      drop++;
    if (drop > 0) shard.records.splice(0, drop);
    if (this.backlogWaiters.length > 0) {
      const held = this.backlog();
      const waiting = this.backlogWaiters;
      this.backlogWaiters = waiting.filter((w) => held >= w.limit);
      for (const w of waiting) if (held < w.limit) w.resolve();
    }
    const cutoff = this.clock() - this.retentionMs;
    const counterOf = (seq: bigint) => seq % 10n ** 30n;
    while (shard.segments.length > 1) {
      const first = shard.segments[0];
      if (first.lastCounter > counterOf(upTo) && first.lastArrivalMs >= cutoff) break;
      fs.rmSync(first.file, { force: true });
      shard.segments.shift();
    }
  }

  close(): void {
    this.flushQueued();
    for (const waiter of this.backlogWaiters.splice(0)) waiter.resolve();
    for (const shard of this.shards) {
      if (shard.fd !== undefined) fs.closeSync(shard.fd);
      shard.fd = undefined;
    }
  }

  private shard(shardId: string): Shard {
    const shard = this.shards.find((s) => s.id === shardId);
    if (!shard) throw new RangeError(`no shard ${shardId}`);
    return shard;
  }

  private openShard(index: number): Shard {
    const id = `shardId-${String(index).padStart(12, "0")}`;
    const dir = path.join(this.options.dir, id);
    fs.mkdirSync(dir, { recursive: true });
    const shard: Shard = { id, index, records: [], counter: 0n, segmentCount: 0, segments: [] };
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".ndjson"))
      .sort();
    for (const file of files) {
      const full = path.join(dir, file);
      let lastCounter = 0n;
      let lastArrivalMs = 0;
      for (const line of fs.readFileSync(full, "utf8").split("\n")) {
        if (!line) continue;
        let stored: StoredLine | GroupLine;
        try {
          stored = JSON.parse(line) as StoredLine | GroupLine;
        } catch {
          continue; // a torn last line from a crash mid-append: that put never returned
        }
        // A record that does not open (wrong or missing key) is an error, never skipped silently.
        const records = "group" in stored ? this.openGroup(stored) : [this.openLine(stored)];
        for (const record of records) {
          shard.records.push(record);
          lastCounter = BigInt(record.sequenceNumber) % 10n ** 30n;
          lastArrivalMs = record.arrivalMs;
          this.lastArrival = Math.max(this.lastArrival, record.arrivalMs);
        }
      }
      if (lastCounter > shard.counter) shard.counter = lastCounter;
      shard.segments.push({ file: full, lastCounter, lastArrivalMs });
    }
    return shard;
  }

  private append(shard: Shard, record: StreamRecordStored): void {
    this.writeLine(shard, [record], `${JSON.stringify(this.sealLine(record))}\n`);
  }

  private appendGroup(shard: Shard, records: StreamRecordStored[]): void {
    const cipher = this.options.cipher;
    if (!cipher) {
      const group: GroupLine = { group: records };
      this.writeLine(shard, records, `${JSON.stringify(group)}\n`);
      return;
    }
    // `JSON.stringify({ group: base64 })` without copying and scanning the (large) base64 text once more: base64
    // needs no escaping, so the line is the same bytes (issue 13).
    const sealed = cipher.encrypt(Buffer.from(JSON.stringify(records), "utf8")).toString("base64");
    this.writeLine(shard, records, `{"group":"${sealed}"}\n`);
  }

  /** One write of `line` (holding `records`, in order) to the shard's current segment, opening a new one when full. */
  private writeLine(shard: Shard, records: StreamRecordStored[], line: string): void {
    const first = records[0];
    const last = records[records.length - 1];
    const counterOf = (record: StreamRecordStored) => BigInt(record.sequenceNumber) % 10n ** 30n;
    if (shard.fd === undefined || shard.segmentCount >= this.segmentRecords) {
      if (shard.fd !== undefined) fs.closeSync(shard.fd);
      // Named after the segment's first record's counter: names sort like the records.
      const name = String(counterOf(first)).padStart(30, "0");
      const file = path.join(this.options.dir, shard.id, `${name}.ndjson`);
      shard.fd = fs.openSync(file, "a");
      shard.segmentCount = 0;
      shard.segmentFile = file;
      shard.segments.push({ file, lastCounter: counterOf(first), lastArrivalMs: first.arrivalMs });
    }
    fs.writeSync(shard.fd, line);
    shard.segmentCount += records.length;
    const segment = shard.segments[shard.segments.length - 1];
    segment.lastCounter = counterOf(last);
    segment.lastArrivalMs = last.arrivalMs;
  }

  private openGroup(line: GroupLine): StreamRecordStored[] {
    if (typeof line.group !== "string") return line.group;
    const cipher = this.options.cipher;
    if (!cipher) throw new Error("sealed stream record group but no cipher");
    return JSON.parse(
      cipher.decrypt(Buffer.from(line.group, "base64")).toString("utf8"),
    ) as StreamRecordStored[];
  }

  private sealLine(record: StreamRecordStored): StoredLine {
    const cipher = this.options.cipher;
    if (!cipher) return record;
    const sealed = cipher.encrypt(Buffer.from(record.data, "base64")).toString("base64");
    const partitionKey = cipher.encrypt(Buffer.from(record.partitionKey, "utf8")).toString("base64");
    return { ...record, partitionKey, data: sealed, sealed: 2 };
  }

  private openLine(line: StoredLine): StreamRecordStored {
    const { sealed, ...record } = line;
    if (!sealed) return record;
    const cipher = this.options.cipher;
    if (!cipher) throw new Error("sealed stream record but no cipher");
    const partitionKey =
      sealed === 2
        ? cipher.decrypt(Buffer.from(record.partitionKey, "base64")).toString("utf8")
        : record.partitionKey;
    return {
      ...record,
      partitionKey,
      data: cipher.decrypt(Buffer.from(record.data, "base64")).toString("base64"),
    };
  }
}
