import type { Clock } from "../ports/clock.ts";
import { systemClock } from "../ports/clock.ts";
import type { DeviceRegistry } from "../ports/device-registry.ts";
import { DriftwatchError, TransientError } from "../shared/errors.ts";
import type { Device } from "./device.ts";

export interface CachedRegistryOptions {
  /** How long a found device is served from memory (default 5 minutes). */
  ttlMs?: number;
  /**
   * How long "not registered" is remembered (default 30 s): a burst from an unregistered device costs one lookup,
   * and a device imported meanwhile is seen within this time.
   */
  negativeTtlMs?: number;
  /** Entries kept, least recently used evicted first (default 10,000). */
  maxEntries?: number;
  clock?: Clock;
}

export interface CachedRegistryStats {
  hits: number;
  negativeHits: number;
  misses: number;
  evictions: number;
  size: number;
}

interface Entry {
  device: Device | undefined;
  expiresAt: number;
}

/**
 * A `DeviceRegistry` in front of another: TTL, negative caching, bounded size (LRU), and single flight (concurrent
 * lookups of one device share one call). Failures are not cached; errors that are not Driftwatch errors are
 * wrapped as `TransientError` (the table may be throttled or unreachable; a retry may succeed).
 */
export class CachedRegistry implements DeviceRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Device | undefined>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;
  private readonly counters = { hits: 0, negativeHits: 0, misses: 0, evictions: 0 };

  constructor(
    private readonly inner: DeviceRegistry,
    options: CachedRegistryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 30_000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.clock = options.clock ?? systemClock;
  }

  /** The cached answer if fresh, without a lookup; `null` when not cached. Lets callers stay synchronous. */
  peek(deviceId: string): Device | undefined | null {
    const entry = this.entries.get(deviceId);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.clock.now()) return null;
    if (entry.device === undefined) this.counters.negativeHits++;
    else this.counters.hits++;
    // Refresh recency (Map keeps insertion order; the first key is the least recently used).
    this.entries.delete(deviceId);
    this.entries.set(deviceId, entry);
    return entry.device;
  }

  get(deviceId: string): Promise<Device | undefined> {
    const cached = this.peek(deviceId);
    if (cached !== null) return Promise.resolve(cached);
    let pending = this.inflight.get(deviceId);
    if (pending === undefined) {
      this.counters.misses++;
      pending = this.load(deviceId);
      this.inflight.set(deviceId, pending);
    }
    return pending;
  }

  /** Forgets one device (after a registry write) or everything. */
  invalidate(deviceId?: string): void {
    if (deviceId === undefined) this.entries.clear();
    else this.entries.delete(deviceId);
  }

  stats(): CachedRegistryStats {
    return { ...this.counters, size: this.entries.size };
  }

  private async load(deviceId: string): Promise<Device | undefined> {
    try {
      const device = await this.inner.get(deviceId);
      const ttl = device === undefined ? this.negativeTtlMs : this.ttlMs;
      if (ttl > 0) {
        this.entries.delete(deviceId);
        this.entries.set(deviceId, { device, expiresAt: this.clock.now() + ttl });
        while (this.entries.size > this.maxEntries) {
          this.entries.delete(this.entries.keys().next().value as string);
          this.counters.evictions++;
        }
      }
      return device;
    } catch (error) {
      if (error instanceof DriftwatchError) throw error;
      throw new TransientError("device registry lookup failed", { cause: error });
    } finally {
      this.inflight.delete(deviceId);
    }
  }
}
