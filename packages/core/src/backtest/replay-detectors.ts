import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import { DriftwatchError } from "../shared/errors.ts";
import {
  DetectorPool,
  type CheckpointReport,
  type DetectorFactory,
  type ScoringDetector,
} from "../scoring/detector-pool.ts";

type DetectorResult = ReturnType<ScoringDetector["process"]>;

/** The second pass of a backtest asked its detector for a point the first pass did not score in that order. */
export class ReplayTapeMismatchError extends DriftwatchError {}

/**
 * The scoring path's `DetectorPool` for a replay: detectors live in memory for the whole range and are never
 * checkpointed (a replay must not touch live models, and nothing reads a replay's checkpoints back), so the
 * per-window checkpoint of the live path costs nothing here.
 */
export class ReplayDetectorPool extends DetectorPool {
  override async checkpoint(_shardId: string): Promise<CheckpointReport> {
    return { written: 0, deferred: 0, bytes: 0, ms: 0 };
  }
}

/**
 * Records every detector result of one pass, in call order, and plays it back to a later pass over the same
 * readings. A backtest compares two rule sets on one detector: the rule sets differ only after the detector
 * (bounds, score threshold, silence, stuck), and the scorer calls the detector in an order that depends only on the
 * readings, so the second pass gets exactly the first pass's results without running the forest twice. Each call
 * is checked against the tape (series and point), so a divergence fails loudly instead of skewing results.
 */
export class DetectorTape {
  private readonly entries: { series: string | undefined; point: number[]; result: DetectorResult }[] = [];

  /** Wraps `factory` so its detectors append every result to this tape. */
  recording(factory: DetectorFactory): DetectorFactory {
    const wrap = (detector: ScoringDetector): ScoringDetector => ({
      dimensions: detector.dimensions,
      process: (point, series) => {
        const result = detector.process(point, series);
        this.entries.push({ series, point: Array.from(point), result });
        return result;
      },
      toCheckpoint: (options) => detector.toCheckpoint(options),
    });
    return {
      create: (dimensions) => wrap(factory.create(dimensions)),
      restore: (bytes) => wrap(factory.restore(bytes)),
    };
  }

  /** A factory whose detectors return the recorded results, in order. */
  playback(): DetectorFactory {
    let next = 0;
    const make = (dimensions: number): ScoringDetector => ({
      dimensions,
      process: (point, series) => {
        const entry = this.entries[next++];
        if (
          !entry ||
          entry.series !== series ||
          entry.point.length !== point.length ||
          entry.point.some((v, i) => v !== point[i])
        ) {
          throw new ReplayTapeMismatchError(`detector call ${next - 1} differs from the recorded pass`);
        }
        return entry.result;
      },
      toCheckpoint: () => new Uint8Array(0),
    });
    return {
      create: make,
      restore: () => {
        throw new ReplayTapeMismatchError("a playback detector is never restored");
      },
    };
  }
}

/** Checkpoints of a replay, in memory (never the live store). */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly objects = new Map<string, Uint8Array>();
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }
  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(key, bytes);
  }
}

export function replayPool(factory: DetectorFactory, clock: Clock): ReplayDetectorPool {
  return new ReplayDetectorPool(factory, new MemoryCheckpointStore(), clock);
}
