/** A provisioned Kinesis shard's write limits: 1,000 records/s and 1 MiB/s (AWS Kinesis Data Streams quotas). */
export const SHARD_RECORDS_PER_SECOND = 1000;
export const SHARD_BYTES_PER_SECOND = 1024 * 1024;

/**
 * Shards a provisioned stream needs to take `peakRecordsPerSecond` records of `recordBytes` each (at least one).
 * Used by the stage configuration (stacks/constructs/stage-config.ts) to size a provisioned stream from the stage's
 * stated peak, and by the cost model to size it from the workload's peak, so the two agree.
 */
export function shardsForPeak(peakRecordsPerSecond: number, recordBytes: number): number {
  if (!(peakRecordsPerSecond >= 0) || !(recordBytes > 0)) {
    throw new RangeError(`peak ${peakRecordsPerSecond} records/s of ${recordBytes} bytes is not a rate`);
  }
  return Math.max(
    1,
    Math.ceil((peakRecordsPerSecond * recordBytes) / SHARD_BYTES_PER_SECOND),
    Math.ceil(peakRecordsPerSecond / SHARD_RECORDS_PER_SECOND),
  );
}
