import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import { mapBounded } from "../shared/map-bounded.ts";

/** Checkpoint puts in flight at a window's end (issue 13). */
const CHECKPOINT_WRITES = 4;

/**
 * A used model is checkpointed within this many of its shard's window ends (ADR 0602, "Checkpoints spread over
 * window ends"): each window end writes the ⌈dirty ÷ N⌉ models written longest ago, and every model dirty for N
 * window ends. 1 = every used model at every window end (before issue 13's ninth session).
 */
export const DEFAULT_CHECKPOINT_EVERY_WINDOWS = 5;

/** What the scoring path needs from a detector (structurally `AnomalyDetector` from `rcf/index.ts`). */
export interface ScoringDetector {
  readonly dimensions: number;
  /** `series`: the device id; per-device alert state (suppression, smoothing) on a shared model (ADR 0303). */
  process(
    point: ArrayLike<number>,
    series?: string,
  ): {
    score: number;
    grade: number;
    anomaly: boolean;
    /** First anomaly of an episode of this series (see `DetectorResult`); absent: every anomaly is. */
    newEpisode?: boolean;
    /** The model is calibrated (see `DetectorResult`); absent: it is. */
    calibrated?: boolean;
    /** On anomalous points, with per-series normalisation: each metric's expected range for this series, by index. */
    expected?: readonly { low: number; high: number }[];
    attribution: { index: number; contribution: number; direction: "HIGH" | "LOW" }[];
  };
  toCheckpoint(options?: { compress?: boolean }): Uint8Array;
}

export interface DetectorFactory {
  create(dimensions: number): ScoringDetector;
  restore(bytes: Uint8Array): ScoringDetector;
}

/**
 * The model key a detector is kept under: the device's model key (default `manufacturer#model`) plus its sorted
 * metric names, because one model's devices may send different metric sets (a weather station sends one sensor
 * type per message) and a forest has a fixed dimension.
 */
export function detectorKeyOf(modelKey: string, metricNames: readonly string[]): string {
  return `${modelKey}|${metricNames.join(",")}`;
}

/** Object key of a detector checkpoint: per shard (a forest is per shard and model key; see ADR 0602). */
export function checkpointKeyOf(shardId: string, detectorKey: string): string {
  return `models/${encodeURIComponent(shardId)}/${encodeURIComponent(detectorKey)}.rcf`;
}

export interface CheckpointReport {
  written: number;
  /** Used models left dirty for a later window end (spread, `checkpointEveryWindows`). */
  deferred: number;
  bytes: number;
  ms: number;
}

export interface DetectorPoolOptions {
  /** See `DEFAULT_CHECKPOINT_EVERY_WINDOWS`. */
  checkpointEveryWindows?: number;
  /** An unreadable checkpoint was replaced by a fresh model (reported, never fatal). */
  onRestoreFailure?: (key: string, error: unknown) => void;
}

interface PoolEntry {
  detector: ScoringDetector;
  shardId: string;
  key: string;
  /** The shard's window-end round at which the model became dirty (used since its last checkpoint); -1 = clean. */
  dirtySince: number;
  /** The round of its last checkpoint (-1 = never): the least recently written go first. */
  writtenAt: number;
}

/**
 * One detector per (shard, detector key), created on first use or restored from its checkpoint (cold start),
 * checkpointed when dirty, spread over window ends (`checkpointEveryWindows`). An unreadable checkpoint (corrupt, newer format, other dimension) is replaced by a fresh
 * model and reported through `onRestoreFailure`, never fatal: scoring must go on.
 */
export class DetectorPool {
  private readonly detectors = new Map<string, PoolEntry>();
  private readonly loading = new Map<string, Promise<ScoringDetector>>();
  /** Window ends (calls of `checkpoint`) per shard. */
  private readonly rounds = new Map<string, number>();
  private readonly every: number;
  private readonly onRestoreFailure: (key: string, error: unknown) => void;

  constructor(
    private readonly factory: DetectorFactory,
    private readonly checkpoints: CheckpointStore,
    private readonly clock: Clock,
    options: DetectorPoolOptions = {},
  ) {
    this.onRestoreFailure = options.onRestoreFailure ?? (() => {});
    this.every = Math.max(1, Math.floor(options.checkpointEveryWindows ?? DEFAULT_CHECKPOINT_EVERY_WINDOWS));
  }

  get size(): number {
    return this.detectors.size;
  }

  async get(shardId: string, key: string, dimensions: number): Promise<ScoringDetector> {
    const id = `${shardId}\u0000${key}`;
    const entry = this.detectors.get(id);
    if (entry) {
      if (entry.dirtySince < 0) entry.dirtySince = this.rounds.get(shardId) ?? 0;
      return entry.detector;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(shardId, key, dimensions);
      this.loading.set(id, pending);
    }
    try {
      const detector = await pending;
      if (!this.detectors.has(id)) {
        const round = this.rounds.get(shardId) ?? 0;
        this.detectors.set(id, { detector, shardId, key, dirtySince: round, writtenAt: -1 });
      }
      return detector;
    } finally {
      this.loading.delete(id);
    }
  }

  private async load(shardId: string, key: string, dimensions: number): Promise<ScoringDetector> {
    const bytes = await this.checkpoints.get(checkpointKeyOf(shardId, key));
    if (bytes && bytes.length > 0) {
      try {
        const restored = this.factory.restore(bytes);
        if (restored.dimensions === dimensions) return restored;
        this.onRestoreFailure(
          key,
          new Error(`checkpoint has ${restored.dimensions} dimensions, expected ${dimensions}`),
        );
      } catch (error) {
        this.onRestoreFailure(key, error);
      }
    }
    return this.factory.create(dimensions);
  }

  /**
   * At a window end of `shardId`: writes the checkpoints of its share of the detectors used since their last
   * checkpoint — every one dirty for `checkpointEveryWindows` window ends, and at least ⌈dirty ÷ that⌉ of them, the
   * least recently written first — so a shard's models are written a few per window end instead of all at once
   * (issue 13: 63 models held a shard ~1.6 s at every window end), each within `checkpointEveryWindows` window ends.
   */
  async checkpoint(shardId: string): Promise<CheckpointReport> {
    const started = this.clock.now();
    const round = this.rounds.get(shardId) ?? 0;
    this.rounds.set(shardId, round + 1);
    const dirty = [...this.detectors.values()].filter((e) => e.shardId === shardId && e.dirtySince >= 0);
    dirty.sort((a, b) => a.writtenAt - b.writtenAt || a.dirtySince - b.dirtySince);
    const due = dirty.filter((e) => round - e.dirtySince >= this.every - 1).length;
    const count = Math.min(dirty.length, Math.max(due, Math.ceil(dirty.length / this.every)));
    const chosen = dirty
      .filter((e) => round - e.dirtySince >= this.every - 1)
      .concat(dirty.filter((e) => round - e.dirtySince < this.every - 1))
      .slice(0, count);
    let written = 0;
    let bytes = 0;
    // Up to CHECKPOINT_WRITES puts in flight: the next model serializes while the previous ones are written.
    await mapBounded(chosen, CHECKPOINT_WRITES, async (entry) => {
      const data = entry.detector.toCheckpoint({ compress: true });
      await this.checkpoints.put(checkpointKeyOf(shardId, entry.key), data);
      entry.dirtySince = -1;
      entry.writtenAt = round;
      written += 1;
      bytes += data.length;
    });
    return { written, deferred: dirty.length - written, bytes, ms: this.clock.now() - started };
  }
}
