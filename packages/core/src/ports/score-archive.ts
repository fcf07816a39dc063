import type { ScoredRecord } from "../scoring/scored-record.ts";

/**
 * Archive of scored records (a Firehose delivery stream into `lake/scores/` on AWS, gzip NDJSON files locally).
 * At least once: a retried batch may archive a record twice; `sequenceNumber` + `shardId` identify duplicates.
 */
export interface ScoreArchive {
  putMany(records: readonly ScoredRecord[]): Promise<void>;
}
