/** Binary model checkpoints (RCF forests + thresholder state), keyed by shard and model key. */
export interface CheckpointStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}
