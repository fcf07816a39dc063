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

/** A record as written to the log: `data` sealed (base64 of the sealed bytes) when `sealed` is set. */
interface StoredLine extends StreamRecordStored {
  /** `true`: data sealed; `2`: data and partition key sealed (a partition key is a device id, which can be PHI). */
  sealed?: true | 2;
}

const HASH_SPACE = 1n << 128n;
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
    const hash = BigInt(`0x${createHash("md5").update(partitionKey, "utf8").digest("hex")}`);
    const index = Number((hash * BigInt(this.shards.length)) / HASH_SPACE);
    return this.shards[index].id;
  }

  /** PutRecord: appended durably before it returns. */
  put(partitionKey: string, data: Uint8Array | string): { shardId: string; sequenceNumber: string } {
    if (partitionKey.length === 0 || partitionKey.length > 256)
      throw new RangeError("partition key must be 1-256 characters");
    const shard = this.shards.find((s) => s.id === this.shardFor(partitionKey))!;
    shard.counter += 1n;
    // Arrival times never go backwards within the stream (a clock step back would reorder windows).
    const arrivalMs = Math.max(this.clock(), this.lastArrival);
    this.lastArrival = arrivalMs;
    const record: StreamRecordStored = {
      sequenceNumber: (SEQ_PREFIX + BigInt(shard.index) * 10n ** 30n + shard.counter).toString(),
      partitionKey,
      arrivalMs,
      data: typeof data === "string" ? data : Buffer.from(data).toString("base64"),
    };
    this.append(shard, record);
    shard.records.push(record);
    for (const listener of this.listeners) listener(shard.id);
    return { shardId: shard.id, sequenceNumber: record.sequenceNumber };
  }

  /** Records of `shardId` after `afterSequenceNumber` (exclusive; all when null), at most `limit`. */
  read(shardId: string, afterSequenceNumber: string | null, limit: number): StreamRecordStored[] {
    const records = this.shard(shardId).records;
    let start = 0;
    if (afterSequenceNumber !== null) {
      const after = BigInt(afterSequenceNumber);
      // Binary search: sequence numbers ascend.
      let lo = 0;
      let hi = records.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (BigInt(records[mid].sequenceNumber) <= after) lo = mid + 1;
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

  /** Drops records up to `sequenceNumber` (acknowledged by the only consumer) and deletes fully consumed segments. */
  trim(shardId: string, sequenceNumber: string): void {
    const shard = this.shard(shardId);
    const upTo = BigInt(sequenceNumber);
    let drop = 0;
    while (drop < shard.records.length && BigInt(shard.records[drop].sequenceNumber) <= upTo) drop++;
    if (drop > 0) shard.records.splice(0, drop);
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
        let stored: StoredLine;
        try {
          stored = JSON.parse(line) as StoredLine;
        } catch {
          continue; // a torn last line from a crash mid-append: that put never returned
        }
        // A record that does not open (wrong or missing key) is an error, never skipped silently.
        const record = this.openLine(stored);
        shard.records.push(record);
        lastCounter = BigInt(record.sequenceNumber) % 10n ** 30n;
        lastArrivalMs = record.arrivalMs;
        this.lastArrival = Math.max(this.lastArrival, record.arrivalMs);
      }
      if (lastCounter > shard.counter) shard.counter = lastCounter;
      shard.segments.push({ file: full, lastCounter, lastArrivalMs });
    }
    return shard;
  }

  private append(shard: Shard, record: StreamRecordStored): void {
    if (shard.fd === undefined || shard.segmentCount >= this.segmentRecords) {
      if (shard.fd !== undefined) fs.closeSync(shard.fd);
      const file = path.join(this.options.dir, shard.id, `${String(shard.counter).padStart(30, "0")}.ndjson`);
      shard.fd = fs.openSync(file, "a");
      shard.segmentCount = 0;
      shard.segmentFile = file;
      shard.segments.push({ file, lastCounter: shard.counter, lastArrivalMs: record.arrivalMs });
    }
    fs.writeSync(shard.fd, `${JSON.stringify(this.sealLine(record))}\n`);
    shard.segmentCount += 1;
    const segment = shard.segments[shard.segments.length - 1];
    segment.lastCounter = shard.counter;
    segment.lastArrivalMs = record.arrivalMs;
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
