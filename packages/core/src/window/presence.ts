import { z } from "zod";

/**
 * Which devices of a shard reported in which window, to raise a `silence` alert for a device that was reporting
 * and has been quiet for N windows. Persisted per shard next to the model checkpoints (at every flush and every
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
  quietWindows: number;
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
    info: Omit<PresenceEntry, "lastSeenMs" | "silenced"> = {},
  ): void {
    const current = this.devices.get(deviceId);
    if (current && current.lastSeenMs >= windowStartMs && !current.silenced) return;
    if (current && current.lastSeenMs > windowStartMs) return;
    this.devices.set(deviceId, { lastSeenMs: windowStartMs, ...stripUndefined(info) });
    this.changed = true;
  }

  /**
   * Devices quiet for at least `quietWindowsFor(device)` windows at the final invoke of the window starting at
   * `windowStartMs`, not yet alerted for this quiet spell.
   */
  dueForSilence(
    windowStartMs: number,
    windowMs: number,
    quietWindowsFor: (deviceId: string, entry: PresenceEntry) => number,
  ): SilentDevice[] {
    const due: SilentDevice[] = [];
    for (const [deviceId, entry] of this.devices) {
      if (entry.silenced) continue;
      const quietWindows = Math.floor((windowStartMs - entry.lastSeenMs) / windowMs);
      const limit = quietWindowsFor(deviceId, entry);
      if (limit > 0 && quietWindows >= limit) due.push({ deviceId, entry, quietWindows });
    }
    return due;
  }

  markSilenced(deviceId: string): void {
    const entry = this.devices.get(deviceId);
    if (!entry || entry.silenced) return;
    entry.silenced = true;
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

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
