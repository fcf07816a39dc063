import { z } from "zod";

/**
 * Which devices of a shard reported in which window, and each device's own reporting cadence (the median of its
 * recent arrival intervals), to raise `silence` only for a device that has shown a cadence and then missed several
 * of its own intervals AND at least N windows (ADR 0606). Persisted per shard next to the model checkpoints (at every flush and every
 * final invoke), so a cold start keeps it.
 *
 * Idempotent by construction: a device is due once per quiet spell (keyed by its last-seen window), and the alert
 * name is derived from that window, so a repeated final invoke cannot start a second escalation.
 */
export const presenceEntrySchema = z.object({
  /** Start (ms) of the last window in which the device reported. */
  lastSeenMs: z.number(),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  site: z.string().optional(),
  /** Set once the silence alert for this quiet spell has been started. */
  silenced: z.boolean().optional(),
  /** Whether the quiet spell was raised per device or as part of a `silence:site` incident. */
  silencedBy: z.enum(["device", "site"]).optional(),
  /** Arrival time (ms) of the latest reading. */
  lastArrivalMs: z.number().optional(),
  /** The latest arrival intervals (ms, > 0), oldest first, at most `CADENCE_SAMPLES`. */
  intervals: z.array(z.number()).optional(),
});
export type PresenceEntry = z.infer<typeof presenceEntrySchema>;

export const presenceSnapshotSchema = z.object({
  v: z.literal(1),
  devices: z.record(presenceEntrySchema),
});
export type PresenceSnapshot = z.infer<typeof presenceSnapshotSchema>;

export interface SilentDevice {
  deviceId: string;
  entry: PresenceEntry;
  /** Whole windows without a reading since the window of its last reading. */
  quietWindows: number;
  /**
   * Windows its silence spans so far: the window of its last reading (quiet after it) and the whole quiet windows
   * after it (`quietWindows + 1`); compared with `silenceWindows`.
   */
  spannedWindows: number;
  /** The device's own reporting interval, ms. */
  cadenceMs: number;
  /** Its intervals missed since its last reading. */
  missedIntervals: number;
}

/** Arrival intervals remembered per device. */
export const CADENCE_SAMPLES = 9;
/** Intervals a device must have shown before it has a cadence (a device that sent one message never has one). */
export const CADENCE_MIN_INTERVALS = 3;
/** Own intervals a device must miss (on top of `silenceWindows` windows) before it is silent. */
export const MISSED_INTERVALS = 4;

/** The device's reporting interval (median of its recent arrival intervals), once it has shown one. */
export function cadenceOf(entry: PresenceEntry): number | undefined {
  const intervals = entry.intervals ?? [];
  if (intervals.length < CADENCE_MIN_INTERVALS) return undefined;
  const sorted = [...intervals].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export class PresenceTracker {
  private readonly devices: Map<string, PresenceEntry>;
  private changed = false;

  constructor(snapshot?: PresenceSnapshot) {
    this.devices = new Map(Object.entries(snapshot?.devices ?? {}));
  }

  static fromBytes(bytes: Uint8Array | undefined): PresenceTracker {
    if (!bytes || bytes.length === 0) return new PresenceTracker();
    const parsed = presenceSnapshotSchema.safeParse(JSON.parse(Buffer.from(bytes).toString("utf8")));
    return new PresenceTracker(parsed.success ? parsed.data : undefined);
  }

  get dirty(): boolean {
    return this.changed;
  }

  get size(): number {
    return this.devices.size;
  }

  get(deviceId: string): PresenceEntry | undefined {
    return this.devices.get(deviceId);
  }

  entries(): IterableIterator<[string, PresenceEntry]> {
    return this.devices.entries();
  }

  /** Records that the device reported in the window starting at `windowStartMs` (never moves backwards). */
  markSeen(
    deviceId: string,
    windowStartMs: number,
    info: Pick<PresenceEntry, "manufacturer" | "model" | "site"> = {},
  ): void {
    const current = this.devices.get(deviceId);
    if (current && current.lastSeenMs >= windowStartMs && !current.silenced) return;
    if (current && current.lastSeenMs > windowStartMs) return;
    const { silenced: _s, silencedBy: _b, ...kept } = current ?? { lastSeenMs: windowStartMs };
    this.devices.set(deviceId, { ...kept, lastSeenMs: windowStartMs, ...stripUndefined(info) });
    this.changed = true;
  }

  /** How the device's current quiet spell was raised, if it was (the device is reporting again now). */
  returning(deviceId: string): "device" | "site" | undefined {
    const entry = this.devices.get(deviceId);
    return entry?.silenced ? (entry.silencedBy ?? "device") : undefined;
  }

  /**
   * Records one reading that arrived at `arrivalMs` in the window starting at `windowStartMs`: learns the arrival
   * interval (ignored unless later than the last arrival, so retries, duplicates and bursts change nothing) and
   * ends a quiet spell. Call once the record was processed successfully.
   */
  observe(
    deviceId: string,
    arrivalMs: number,
    windowStartMs: number,
    info: Pick<PresenceEntry, "manufacturer" | "model" | "site"> = {},
  ): void {
    const current = this.devices.get(deviceId);
    // A fresh entry (entries handed out stay unchanged), as `{ ...current, ...stripUndefined(info) }` without the
    // intermediate objects; `delete` only when the spell's fields are there (a delete turns an object slow).
    const entry: PresenceEntry = current ? { ...current } : { lastSeenMs: windowStartMs };
    assignDefined(entry, info);
    if (entry.lastArrivalMs === undefined || arrivalMs > entry.lastArrivalMs) {
      if (entry.lastArrivalMs !== undefined) {
        const previous = entry.intervals ?? [];
        // The latest `CADENCE_SAMPLES` of previous + this interval.
        const intervals = previous.slice(Math.max(0, previous.length + 1 - CADENCE_SAMPLES));
        intervals.push(arrivalMs - entry.lastArrivalMs);
        entry.intervals = intervals;
      }
      entry.lastArrivalMs = arrivalMs;
    }
    if (windowStartMs > entry.lastSeenMs) entry.lastSeenMs = windowStartMs;
    if ("silenced" in entry) delete entry.silenced;
    if ("silencedBy" in entry) delete entry.silencedBy;
    this.devices.set(deviceId, entry);
    this.changed = true;
  }

  /**
   * At the final invoke of the window [windowStartMs, windowEndMs): devices not yet alerted for their quiet spell
   * that have a cadence, have missed at least `MISSED_INTERVALS` of it and have at least one whole quiet window.
   * `due`: their silence spans at least `quietWindowsFor(device)` windows (> 0; 0 disables) — the window of the
   * last reading plus the whole quiet windows after it, so an outage lasting N windows always spans N windows at
   * some window end (it holds N − 1 whole windows at least), and with N = 3 a device is due 2–3 windows after its
   * last reading, never before two whole windows without one. `quiet`: the others with a limit > 0 (candidates to
   * join a site incident).
   */
  silenceCandidates(
    windowStartMs: number,
    windowEndMs: number,
    windowMs: number,
    quietWindowsFor: (deviceId: string, entry: PresenceEntry) => number,
  ): { due: SilentDevice[]; quiet: SilentDevice[] } {
    const due: SilentDevice[] = [];
    const quiet: SilentDevice[] = [];
    for (const [deviceId, entry] of this.devices) {
      if (entry.silenced) continue;
      const quietWindows = Math.floor((windowStartMs - entry.lastSeenMs) / windowMs);
      if (quietWindows < 1) continue;
      const cadenceMs = cadenceOf(entry);
      if (cadenceMs === undefined || cadenceMs <= 0) continue;
      const lastMs = entry.lastArrivalMs ?? entry.lastSeenMs;
      const missedIntervals = Math.floor((windowEndMs - lastMs) / cadenceMs) - 1;
      if (missedIntervals < MISSED_INTERVALS) continue;
      const limit = quietWindowsFor(deviceId, entry);
      if (!(limit > 0)) continue;
      const spannedWindows = quietWindows + 1;
      const silent = { deviceId, entry, quietWindows, spannedWindows, cadenceMs, missedIntervals };
      (spannedWindows >= limit ? due : quiet).push(silent);
    }
    return { due, quiet };
  }

  /** Devices of `site` that have shown a cadence (the denominator of "most devices of the site"). */
  siteDevices(site: string): string[] {
    const ids: string[] = [];
    for (const [deviceId, entry] of this.devices) {
      if (entry.site === site && cadenceOf(entry) !== undefined) ids.push(deviceId);
    }
    return ids;
  }

  /** Whether some device of `site` is still in a quiet spell raised as a site incident. */
  siteStillSilent(site: string, except?: string): boolean {
    for (const [deviceId, entry] of this.devices) {
      if (deviceId !== except && entry.site === site && entry.silenced && entry.silencedBy === "site")
        return true;
    }
    return false;
  }

  markSilenced(deviceId: string, by: "device" | "site" = "device"): void {
    const entry = this.devices.get(deviceId);
    if (!entry || entry.silenced) return;
    entry.silenced = true;
    entry.silencedBy = by;
    this.changed = true;
  }

  /** Drops devices silenced and quiet for longer than `maxQuietMs` (decommissioned devices). */
  prune(nowWindowStartMs: number, maxQuietMs: number): void {
    for (const [deviceId, entry] of this.devices) {
      if (entry.silenced && nowWindowStartMs - entry.lastSeenMs > maxQuietMs) {
        this.devices.delete(deviceId);
        this.changed = true;
      }
    }
  }

  toBytes(): Uint8Array {
    this.changed = false;
    const snapshot: PresenceSnapshot = { v: 1, devices: Object.fromEntries(this.devices) };
    return Buffer.from(JSON.stringify(snapshot), "utf8");
  }
}

/** `Object.assign(target, stripUndefined(source))`, without the intermediate arrays and object. */
function assignDefined<T extends object>(target: T, source: Partial<T>): void {
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    if (value !== undefined) target[key] = value as T[typeof key];
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
