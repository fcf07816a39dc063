import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import { PresenceTracker } from "../window/presence.ts";
import { StuckTracker, stuckKeyOf, type StuckTrackerOptions } from "./stuck-tracker.ts";

export function presenceKeyOf(shardId: string): string {
  return `presence/${encodeURIComponent(shardId)}.json`;
}

/**
 * The scorer's per-shard rule state that outlives a window (presence for the silence rule, stuck runs), kept in
 * memory and snapshotted next to the model checkpoints; read once per shard on a cold start.
 */
export class ShardStates {
  private readonly presence = new Map<string, PresenceTracker>();
  private readonly stuck = new Map<string, StuckTracker>();

  constructor(
    private readonly checkpoints: CheckpointStore,
    private readonly stuckOptions: StuckTrackerOptions | undefined,
    private readonly warn: (message: string, fields: Record<string, unknown>) => void,
  ) {}

  async presenceOf(shardId: string): Promise<PresenceTracker> {
    let tracker = this.presence.get(shardId);
    if (!tracker) {
      tracker = PresenceTracker.fromBytes(await this.checkpoints.get(presenceKeyOf(shardId)));
      this.presence.set(shardId, tracker);
    }
    return tracker;
  }

  async stuckOf(shardId: string): Promise<StuckTracker> {
    let tracker = this.stuck.get(shardId);
    if (!tracker) {
      const restored = StuckTracker.fromBytes(
        await this.checkpoints.get(stuckKeyOf(shardId)),
        this.stuckOptions,
      );
      if (restored.error !== undefined) {
        this.warn("stuck-sensor state unreadable, starting afresh", {
          error: (restored.error as Error).name,
          shardId,
        });
      }
      tracker = restored.tracker;
      this.stuck.set(shardId, tracker);
    }
    return tracker;
  }

  async savePresence(shardId: string, presence: PresenceTracker): Promise<void> {
    await this.checkpoints.put(presenceKeyOf(shardId), presence.toBytes());
  }

  async saveStuck(shardId: string, stuck: StuckTracker): Promise<void> {
    await this.checkpoints.put(stuckKeyOf(shardId), stuck.toBytes());
  }
}
