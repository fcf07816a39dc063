import { isProductionStage } from "./app-defaults.ts";

/** Per-stage settings of the scoring path (the event source mapping and the handler). */
export interface ScoringConfig {
  /** Tumbling window, seconds (Lambda allows 0–900). The seed's KDA SQL used 60. */
  windowSeconds: number;
  /** Records per invocation (Kinesis allows up to 10,000). */
  batchSize: number;
  /** Maximum batching window, seconds (0–300). */
  batchingWindowSeconds: number;
  /** Retries of a failing batch before it goes to the on-failure destination (bounded; -1 would be infinite). */
  retryAttempts: number;
  /** Records older than this are sent to the on-failure destination instead of being processed (60–604,800 s). */
  maxRecordAgeSeconds: number;
  /** Silence alert after this many quiet windows (threshold scopes may override). */
  silenceWindows: number;
  /** Days stored window aggregates live (DynamoDB TTL). */
  metricsTtlDays: number;
  memoryMiB: number;
  /** Alarm when the oldest unprocessed record is older than this, seconds. */
  iteratorAgeAlarmSeconds: number;
  /** Scores archive Firehose buffer interval, seconds. */
  scoresBufferSeconds: number;
}

/** Per-stage overrides of the window length, e.g. a short window for a demo stage. */
const WINDOW_SECONDS_BY_STAGE: Record<string, number> = {};

export function scoringConfig(stage: string): ScoringConfig {
  const production = isProductionStage(stage);
  const windowSeconds = WINDOW_SECONDS_BY_STAGE[stage] ?? 60;
  return {
    windowSeconds,
    batchSize: 1_000,
    batchingWindowSeconds: production ? 5 : 1,
    retryAttempts: 5,
    maxRecordAgeSeconds: production ? 6 * 3600 : 3600,
    silenceWindows: 3,
    metricsTtlDays: production ? 90 : 14,
    memoryMiB: 1_769, // one full vCPU
    iteratorAgeAlarmSeconds: 2 * windowSeconds + 120,
    scoresBufferSeconds: production ? 300 : 60,
  };
}
