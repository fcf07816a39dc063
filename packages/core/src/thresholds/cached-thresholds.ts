import type { Clock } from "../ports/clock.ts";
import type { ThresholdsStore } from "../ports/thresholds-store.ts";
import { resolveThresholds, type EffectiveThresholds } from "./resolve.ts";
import { scopeKeysOf, type ScopedDevice, type ThresholdRule } from "./threshold-rule.ts";

export interface CachedThresholdsOptions {
  /** How long a scope's rule (or its absence) is trusted, ms. Default 30 s: edits apply within that. */
  ttlMs?: number;
  /** Most scopes kept; least recently loaded are dropped first. Default 10,000. */
  maxEntries?: number;
}

/**
 * Resolves a device's thresholds from the thresholds store, caching each scope's rule — and its absence —
 * briefly, so the scoring hot path makes at most one store call per scope per TTL.
 */
export class CachedThresholds {
  private readonly cache = new Map<string, { rule: ThresholdRule | undefined; expiresAt: number }>();
  /**
   * Resolutions per device id (the hot path asks once per record), valid while all their scopes are and for the
   * manufacturer and model they were resolved for (compared, not joined into a key: no string per record).
   */
  private readonly resolved = new Map<
    string,
    { manufacturer: string; model: string; value: EffectiveThresholds; expiresAt: number }
  >();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly store: ThresholdsStore,
    private readonly clock: Clock,
    options: CachedThresholdsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  async resolve(device: ScopedDevice): Promise<EffectiveThresholds> {
    const now = this.clock.now();
    const hit = this.resolved.get(device.deviceId);
    if (
      hit !== undefined &&
      hit.expiresAt > now &&
      hit.manufacturer === device.manufacturer &&
      hit.model === device.model
    )
      return hit.value;
    const scopes = scopeKeysOf(device);
    const missing = scopes.filter((scope) => {
      const hit = this.cache.get(scope);
      return !hit || hit.expiresAt <= now;
    });
    if (missing.length > 0) {
      const loaded = await this.store.getMany(missing);
      const byScope = new Map(loaded.map((r) => [r.scope, r]));
      for (const scope of missing) {
        this.cache.delete(scope);
        this.cache.set(scope, { rule: byScope.get(scope), expiresAt: now + this.ttlMs });
      }
      while (this.cache.size > this.maxEntries) {
        const oldest = this.cache.keys().next().value as string;
        this.cache.delete(oldest);
      }
    }
    const rules: ThresholdRule[] = [];
    let expiresAt = Infinity;
    for (const scope of scopes) {
      const entry = this.cache.get(scope);
      if (entry?.rule) rules.push(entry.rule);
      expiresAt = Math.min(expiresAt, entry?.expiresAt ?? now);
    }
    const value = resolveThresholds(device, rules);
    if (this.resolved.size >= this.maxEntries) this.resolved.clear();
    const { manufacturer, model } = device;
    this.resolved.set(device.deviceId, { manufacturer, model, value, expiresAt });
    return value;
  }

  /** Forgets everything (after an edit through the API in the same process). */
  clear(): void {
    this.cache.clear();
    this.resolved.clear();
  }
}
