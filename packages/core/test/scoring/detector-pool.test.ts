import { describe, expect, it } from "vitest";
import {
  DEFAULT_CHECKPOINT_EVERY_WINDOWS,
  DetectorPool,
  checkpointKeyOf,
} from "../../src/scoring/detector-pool.ts";
import { MemoryCheckpointStore, zScoreFactory } from "./support.ts";

const SHARD = "shardId-000000000000";
const OTHER = "shardId-000000000001";
const clock = { now: () => 0 };

/** Uses `keys` on `shard` (as a window's records would), then ends the window; returns the keys written. */
async function windowEnd(
  pool: DetectorPool,
  store: MemoryCheckpointStore,
  keys: readonly string[],
  shard = SHARD,
): Promise<{ written: string[]; deferred: number }> {
  for (const key of keys) (await pool.get(shard, key, 1)).process([1]);
  const before = new Map(store.objects);
  const report = await pool.checkpoint(shard);
  const written = [...store.objects.entries()]
    .filter(([k, v]) => before.get(k) !== v)
    .map(([k]) => decodeURIComponent(k.slice(`models/${shard}/`.length, -".rcf".length)));
  expect(report.written).toBe(written.length);
  return { written: written.sort(), deferred: report.deferred };
}

const keysOf = (n: number) => Array.from({ length: n }, (_, i) => `m${String(i).padStart(2, "0")}`);

describe("DetectorPool checkpoints, spread over window ends (issue 13)", () => {
  it("writes every used model at every window end with checkpointEveryWindows 1", async () => {
    const store = new MemoryCheckpointStore();
    const pool = new DetectorPool(zScoreFactory, store, clock, { checkpointEveryWindows: 1 });
    const keys = keysOf(7);
    for (let w = 0; w < 3; w++)
      expect(await windowEnd(pool, store, keys)).toEqual({ written: keys, deferred: 0 });
  });

  it("writes ⌈used ÷ N⌉ models per window end, least recently written first, each within N window ends", async () => {
    const N = DEFAULT_CHECKPOINT_EVERY_WINDOWS;
    expect(N).toBeGreaterThan(1);
    const store = new MemoryCheckpointStore();
    const pool = new DetectorPool(zScoreFactory, store, clock);
    const keys = keysOf(23);
    const lastWritten = new Map<string, number>();
    for (let w = 0; w < 4 * N; w++) {
      const { written, deferred } = await windowEnd(pool, store, keys);
      expect(written).toHaveLength(Math.ceil(keys.length / N));
      expect(deferred).toBe(keys.length - written.length);
      for (const key of written) lastWritten.set(key, w);
      // No model used in window w goes unwritten for N window ends.
      if (w >= N - 1) for (const key of keys) expect(w - (lastWritten.get(key) ?? -1)).toBeLessThan(N);
    }
    // Round robin: every model written about equally often.
    const counts = new Map<string, number>();
    const store2 = new MemoryCheckpointStore();
    const pool2 = new DetectorPool(zScoreFactory, store2, clock);
    for (let w = 0; w < 5 * N; w++)
      for (const key of (await windowEnd(pool2, store2, keys)).written)
        counts.set(key, (counts.get(key) ?? 0) + 1);
    expect(counts.size).toBe(keys.length);
    expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(5); // once per N window ends, at least
    expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(2);
  });

  it("writes each model used once within N window ends, once, and then nothing while none is used", async () => {
    const N = 4;
    const store = new MemoryCheckpointStore();
    const pool = new DetectorPool(zScoreFactory, store, clock, { checkpointEveryWindows: N });
    const keys = keysOf(9);
    const writtenAt = new Map<string, number>();
    for (let w = 0; w < 3 * N; w++) {
      const { written } = await windowEnd(pool, store, w === 0 ? keys : []);
      for (const key of written) {
        expect(writtenAt.has(key)).toBe(false); // a clean model is not written again
        writtenAt.set(key, w);
      }
    }
    expect([...writtenAt.keys()].sort()).toEqual(keys);
    for (const w of writtenAt.values()) expect(w).toBeLessThan(N);
  });

  it("counts window ends per shard: another shard's window ends do not make this shard's models due", async () => {
    const store = new MemoryCheckpointStore();
    const pool = new DetectorPool(zScoreFactory, store, clock, { checkpointEveryWindows: 3 });
    const keys = keysOf(6);
    await windowEnd(pool, store, keys); // 2 of 6 written
    for (let w = 0; w < 5; w++) await windowEnd(pool, store, ["x"], OTHER);
    const { written } = await windowEnd(pool, store, []);
    expect(written).toHaveLength(2); // its own share, not all four left
  });

  it("keeps a model whose write failed dirty, and writes it at the next window end", async () => {
    class Flaky extends MemoryCheckpointStore {
      failures = 1;
      override async put(key: string, bytes: Uint8Array) {
        if (this.failures-- > 0) throw new Error("S3 503");
        await super.put(key, bytes);
      }
    }
    const store = new Flaky();
    const pool = new DetectorPool(zScoreFactory, store, clock, { checkpointEveryWindows: 1 });
    (await pool.get(SHARD, "m0", 1)).process([1]);
    await expect(pool.checkpoint(SHARD)).rejects.toThrow("S3 503");
    expect((await pool.checkpoint(SHARD)).written).toBe(1);
    expect(store.objects.has(checkpointKeyOf(SHARD, "m0"))).toBe(true);
  });
});
