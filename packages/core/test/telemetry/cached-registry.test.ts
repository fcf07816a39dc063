import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/ports/clock.ts";
import { TransientError } from "../../src/shared/errors.ts";
import { CachedRegistry } from "../../src/telemetry/cached-registry.ts";
import { InMemoryDeviceRegistry } from "../../testing/index.ts";

const device = (deviceId: string) => ({ deviceId, manufacturer: "m", model: "x" });

function fixture(options: ConstructorParameters<typeof CachedRegistry>[1] = {}) {
  let now = 1_000_000;
  const clock: Clock = { now: () => now };
  const inner = new InMemoryDeviceRegistry([device("a"), device("b"), device("c")]);
  const cache = new CachedRegistry(inner, { clock, ...options });
  return { inner, cache, advance: (ms: number) => (now += ms) };
}

describe("CachedRegistry", () => {
  it("serves hits from memory until the TTL passes", async () => {
    const { inner, cache, advance } = fixture({ ttlMs: 1000 });
    await cache.get("a");
    await cache.get("a");
    expect(inner.lookups).toBe(1);
    advance(1000);
    await cache.get("a");
    expect(inner.lookups).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it("remembers unknown devices for the negative TTL, then sees a newly registered one", async () => {
    const { inner, cache, advance } = fixture({ negativeTtlMs: 500 });
    expect(await cache.get("new")).toBeUndefined();
    await inner.putMany([device("new")]);
    expect(await cache.get("new")).toBeUndefined();
    expect(inner.lookups).toBe(1);
    advance(500);
    expect(await cache.get("new")).toEqual(device("new"));
    expect(cache.stats().negativeHits).toBe(1);
  });

  it("evicts the least recently used entry beyond maxEntries", async () => {
    const { inner, cache } = fixture({ maxEntries: 2 });
    await cache.get("a");
    await cache.get("b");
    await cache.get("a"); // a is now most recent
    await cache.get("c"); // evicts b
    expect(cache.stats()).toMatchObject({ size: 2, evictions: 1 });
    await cache.get("a");
    expect(inner.lookups).toBe(3);
    await cache.get("b");
    expect(inner.lookups).toBe(4);
  });

  it("coalesces concurrent lookups of one device", async () => {
    const { inner, cache } = fixture();
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.get("a")));
    expect(results.every((result) => result?.deviceId === "a")).toBe(true);
    expect(inner.lookups).toBe(1);
  });

  it("does not cache failures and wraps foreign errors as TransientError", async () => {
    let fail = true;
    const cache = new CachedRegistry({
      get: async (id) => (fail ? Promise.reject(new Error("boom")) : device(id)),
    });
    await expect(cache.get("a")).rejects.toBeInstanceOf(TransientError);
    fail = false;
    await expect(cache.get("a")).resolves.toEqual(device("a"));
  });

  it("invalidate forgets entries", async () => {
    const { inner, cache } = fixture();
    await cache.get("a");
    cache.invalidate("a");
    await cache.get("a");
    expect(inner.lookups).toBe(2);
  });
});
