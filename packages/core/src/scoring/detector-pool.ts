import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import { mapBounded } from "../shared/map-bounded.ts";

/** Checkpoint puts in flight at a window's end (issue 13). */
const CHECKPOINT_WRITES = 4;

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
  bytes: number;
  ms: number;
}

/**
 * One detector per (shard, detector key), created on first use or restored from its checkpoint (cold start),
 * checkpointed when dirty. An unreadable checkpoint (corrupt, newer format, other dimension) is replaced by a fresh
 * model and reported through `onRestoreFailure`, never fatal: scoring must go on.
 */
export class DetectorPool {
  private readonly detectors = new Map<
    string,
    { detector: ScoringDetector; shardId: string; key: string; dirty: boolean }
  >();
  private readonly loading = new Map<string, Promise<ScoringDetector>>();

  constructor(
    private readonly factory: DetectorFactory,
    private readonly checkpoints: CheckpointStore,
    private readonly clock: Clock,
    private readonly onRestoreFailure: (key: string, error: unknown) => void = () => {},
  ) {}

  get size(): number {
    return this.detectors.size;
  }

  async get(shardId: string, key: string, dimensions: number): Promise<ScoringDetector> {
    const id = `${shardId}\u0000${key}`;
    const entry = this.detectors.get(id);
    if (entry) {
      entry.dirty = true;
      return entry.detector;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(shardId, key, dimensions);
      this.loading.set(id, pending);
    }
    try {
      const detector = await pending;
      if (!this.detectors.has(id)) this.detectors.set(id, { detector, shardId, key, dirty: true });
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

  /** Writes the checkpoints of every detector of `shardId` used since its last checkpoint. */
  async checkpoint(shardId: string): Promise<CheckpointReport> {
    const started = this.clock.now();
    let written = 0;
    let bytes = 0;
    const dirty = [...this.detectors.values()].filter((e) => e.shardId === shardId && e.dirty);
    // Up to CHECKPOINT_WRITES puts in flight: the next model serializes while the previous ones are written.
    await mapBounded(dirty, CHECKPOINT_WRITES, async (entry) => {
      const data = entry.detector.toCheckpoint({ compress: true });
      await this.checkpoints.put(checkpointKeyOf(shardId, entry.key), data);
      entry.dirty = false;
      written += 1;
      bytes += data.length;
    });
    return { written, bytes, ms: this.clock.now() - started };
  }
}
