import type { AggregatePart } from "../window/stored-part.ts";

/**
 * Window aggregates (DynamoDB metrics table with TTL on AWS, dynalite locally). `putParts` overwrites each part's
 * key with its complete value, so retries and replays are idempotent; `listParts` returns the raw parts, merged by
 * `mergeParts` from `window/stored-part.ts`.
 */
export interface MetricsStore {
  putParts(parts: readonly AggregatePart[]): Promise<void>;
  listParts(deviceId: string, range?: { fromMs?: number; toMs?: number }): Promise<AggregatePart[]>;
}
