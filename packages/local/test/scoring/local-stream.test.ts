import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventSourceMappingEmulator } from "../../src/scoring/event-source-mapping.ts";
import { LocalKinesisStream } from "../../src/scoring/local-stream.ts";
import { createZoneCipher } from "../../src/storage/zone-cipher.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-stream-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function logText(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(fs.readFileSync(full, "utf8"));
    }
  };
  walk(dir);
  return out.join("\n");
}

describe("LocalKinesisStream at rest", () => {
  const payload = JSON.stringify({ device_id: "device8401", name: "Eugenia Gottlieb", dob: "08/27/1977" });

  it("seals record data in its log and opens it again after a restart", () => {
    const dir = tempDir();
    const cipher = createZoneCipher(path.join(dir, "keys"), "stream");
    const streamDir = path.join(dir, "stream");
    const first = new LocalKinesisStream({ dir: streamDir, streamName: "t", cipher });
    const put = first.put("device8401", Buffer.from(payload));
    first.close();

    const text = logText(streamDir);
    expect(text).toContain(put.sequenceNumber);
    // Neither the clear payload nor its base64 (what Lambda's event carries) is on disk.
    expect(text).not.toContain("Gottlieb");
    expect(text).not.toContain(Buffer.from(payload).toString("base64").slice(0, 40));

    const second = new LocalKinesisStream({ dir: streamDir, streamName: "t", cipher });
    const [record] = second.read(second.shardFor("device8401"), null, 10);
    expect(record.sequenceNumber).toBe(put.sequenceNumber);
    expect(Buffer.from(record.data, "base64").toString("utf8")).toBe(payload);
    second.close();
  });

  it("refuses to re-read a sealed log without its key instead of skipping records", () => {
    const dir = tempDir();
    const streamDir = path.join(dir, "stream");
    const sealed = new LocalKinesisStream({
      dir: streamDir,
      streamName: "t",
      cipher: createZoneCipher(path.join(dir, "keys"), "stream"),
    });
    sealed.put("device8401", Buffer.from(payload));
    sealed.close();
    expect(() => new LocalKinesisStream({ dir: streamDir, streamName: "t" })).toThrow(/no cipher/);
  });
});

/** A sealed stream with the lake writer declared as a second consumer (the scorer is the default one). */
function streamWithLakeConsumer(): { dir: string; stream: LocalKinesisStream } {
  const dir = tempDir();
  const stream = new LocalKinesisStream({
    dir: path.join(dir, "stream"),
    streamName: "t",
    cipher: createZoneCipher(path.join(dir, "keys"), "stream"),
  });
  stream.registerConsumer("lake");
  return { dir, stream };
}

describe("LocalKinesisStream with two consumers (the scorer and the stream-fed lake writer)", () => {
  it("keeps records until every declared consumer has acknowledged them", () => {
    const { stream } = streamWithLakeConsumer();
    const puts = [1, 2, 3].map((i) => stream.put("device-1", Buffer.from(`r${i}`)));
    const shard = puts[0].shardId;
    // The scorer (default consumer) has read everything: the lake writer has not, so nothing is dropped.
    stream.trim(shard, puts[2].sequenceNumber);
    expect(stream.read(shard, null, 10)).toHaveLength(3);
    // The lake writer acknowledges the first two: those two go.
    stream.trim(shard, puts[1].sequenceNumber, "lake");
    expect(stream.read(shard, null, 10).map((r) => r.sequenceNumber)).toEqual([puts[2].sequenceNumber]);
    stream.trim(shard, puts[2].sequenceNumber, "lake");
    expect(stream.read(shard, null, 10)).toEqual([]);
    stream.close();
  });
});

describe("event source mappings declare their consumer when created (issue 13: records trimmed before scoring)", () => {
  it("keeps records the scorer has not read when the lake writer acknowledges first", () => {
    const { dir, stream } = streamWithLakeConsumer();
    const options = {
      stream,
      handler: async () => ({ state: {} }),
      createContext: () => ({}) as never,
      timeoutMs: 1000,
      stateDir: path.join(dir, "esm"),
      dlqDir: path.join(dir, "dlq"),
      windowSeconds: 10,
    };
    new EventSourceMappingEmulator(options); // the scorer: never started, so it acknowledges nothing
    const puts = [1, 2, 3].map((i) => stream.put("device-1", Buffer.from(`r${i}`)));
    const shard = puts[0].shardId;
    stream.trim(shard, puts[2].sequenceNumber, "lake");
    expect(stream.read(shard, null, 10).map((r) => r.sequenceNumber)).toEqual(
      puts.map((p) => p.sequenceNumber),
    );
    stream.trim(shard, puts[1].sequenceNumber);
    expect(stream.read(shard, null, 10).map((r) => r.sequenceNumber)).toEqual([puts[2].sequenceNumber]);
    stream.close();
  });
});

describe("LocalKinesisStream group commit and backlog (issue 13: the local runtime at 5,000 msg/s)", () => {
  it("appends the records queued in one turn as one sealed line, in sequence order, and re-reads them after a restart", async () => {
    const dir = tempDir();
    const cipher = createZoneCipher(path.join(dir, "keys"), "stream");
    const streamDir = path.join(dir, "stream");
    const first = new LocalKinesisStream({ dir: streamDir, streamName: "t", cipher });
    const before = first.put("device-0", Buffer.from("r0"));
    const queued = await Promise.all(
      Array.from({ length: 5 }, (_, i) => first.putQueued(`device-${i + 1}`, Buffer.from(`r${i + 1}`))),
    );
    const after = first.put("device-9", Buffer.from("r9"));
    const sequence = [before, ...queued, after].map((p) => p.sequenceNumber);
    expect([...sequence].sort()).toEqual(sequence); // ascending, in put order
    const lines = logText(streamDir).split("\n").filter(Boolean);
    expect(lines).toHaveLength(3); // put, one group of five, put
    expect(logText(streamDir)).not.toContain("device-3"); // partition keys sealed with the data
    const read = first.read(first.shardIds[0], null, 100);
    expect(read.map((r) => Buffer.from(r.data, "base64").toString())).toEqual([
      "r0",
      "r1",
      "r2",
      "r3",
      "r4",
      "r5",
      "r9",
    ]);
    first.close();

    const second = new LocalKinesisStream({ dir: streamDir, streamName: "t", cipher });
    expect(second.read(second.shardIds[0], null, 100)).toEqual(read);
    expect(second.put("device-10", Buffer.from("r10")).sequenceNumber > after.sequenceNumber).toBe(true);
    second.close();
  });

  it("holds the rule's action while the unacknowledged backlog is at its limit and releases it on trim", async () => {
    const dir = tempDir();
    const stream = new LocalKinesisStream({ dir, streamName: "t" });
    const puts = await Promise.all([1, 2, 3].map((i) => stream.putQueued(`d${i}`, Buffer.from(`r${i}`))));
    expect(stream.backlog()).toBe(3);
    let released = false;
    const waiting = stream.whenBacklogBelow(3).then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    stream.trim(puts[0].shardId, puts[0].sequenceNumber); // 2 left: below the limit
    await waiting;
    expect(released).toBe(true);
    expect(stream.backlog()).toBe(2);
    await expect(stream.whenBacklogBelow(3)).resolves.toBeUndefined();
    stream.close();
  });
  it("putQueuedShared: one turn's records of a shard share one promise, settled once they are in the log, in order", async () => {
    const dir = tempDir();
    const cipher = createZoneCipher(path.join(dir, "keys"), "stream");
    const streamDir = path.join(dir, "stream");
    const stream = new LocalKinesisStream({ dir: streamDir, streamName: "t", shardCount: 2, cipher });
    const keys = Array.from({ length: 12 }, (_, i) => `device-${i}`);
    const promises = keys.map((key, i) => stream.putQueuedShared(key, Buffer.from(`r${i}`)));
    const byShard = new Map<string, Promise<void>>();
    keys.forEach((key, i) => {
      const shard = stream.shardFor(key);
      if (byShard.has(shard)) expect(promises[i]).toBe(byShard.get(shard));
      else byShard.set(shard, promises[i]);
    });
    expect(byShard.size).toBe(2);
    expect(stream.read(stream.shardIds[0], null, 100)).toEqual([]); // not before the group is written
    await Promise.all(promises);
    const read = stream.shardIds.flatMap((id) => stream.read(id, null, 100));
    expect(read.map((r) => Buffer.from(r.data, "base64").toString()).sort()).toEqual(
      keys.map((_, i) => `r${i}`).sort(),
    );
    for (const id of stream.shardIds) {
      const seqs = stream.read(id, null, 100).map((r) => r.sequenceNumber);
      expect([...seqs].sort()).toEqual(seqs);
    }
    // The next turn gets a new promise; a restart reads the same records from the sealed log.
    const next = stream.putQueuedShared(keys[0], Buffer.from("r12"));
    expect(next).not.toBe(promises[0]);
    await next;
    stream.close();
    const reopened = new LocalKinesisStream({ dir: streamDir, streamName: "t", shardCount: 2, cipher });
    expect(reopened.shardIds.flatMap((id) => reopened.read(id, null, 100)).length).toBe(13);
    expect(logText(streamDir)).not.toContain("device-");
    reopened.close();
  });
});
