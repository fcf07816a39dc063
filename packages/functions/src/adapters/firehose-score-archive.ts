import { PutRecordBatchCommand, type FirehoseClient } from "@aws-sdk/client-firehose";
import type { ScoreArchive } from "@driftwatch/core/ports/score-archive";
import type { ScoredRecord } from "@driftwatch/core/scoring/scored-record";
import { TransientError } from "@driftwatch/core/shared/errors";
import { toDriftwatchError } from "./aws-errors.ts";

const MAX_RECORDS = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024;

export interface FirehoseScoreArchiveOptions {
  /** Attempts per chunk for records Firehose reports as failed (default 6). */
  maxAttempts?: number;
  /** First backoff delay; doubles per attempt, capped at 2 s (default 100 ms). */
  baseDelayMs?: number;
}

/**
 * Archives scored records through the `scores` Firehose delivery stream into `lake/scores/` (one NDJSON line per
 * record). PutRecordBatch in chunks of ≤ 500 records / 4 MiB; records Firehose reports as failed are retried with
 * backoff; what still fails raises `TransientError` so the invocation (and its records) is retried.
 */
export class FirehoseScoreArchive implements ScoreArchive {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly firehose: FirehoseClient,
    private readonly deliveryStreamName: string,
    options: FirehoseScoreArchiveOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 100;
  }

  async putMany(records: readonly ScoredRecord[]): Promise<void> {
    let batch: Uint8Array[] = [];
    let bytes = 0;
    for (const record of records) {
      const data = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
      if (batch.length === MAX_RECORDS || bytes + data.length > MAX_BATCH_BYTES) {
        await this.send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(data);
      bytes += data.length;
    }
    if (batch.length > 0) await this.send(batch);
  }

  private async send(batch: Uint8Array[]): Promise<void> {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= this.maxAttempts)
        throw new TransientError(`scores PutRecordBatch left ${pending.length} records unaccepted`);
      if (attempt > 0) {
        const delay = Math.min(2_000, this.baseDelayMs * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      try {
        const result = await this.firehose.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.deliveryStreamName,
            Records: pending.map((Data) => ({ Data })),
          }),
        );
        if (!result.FailedPutCount) return;
        pending = pending.filter((_, i) => result.RequestResponses?.[i]?.ErrorCode !== undefined);
      } catch (error) {
        throw toDriftwatchError(error, "scores PutRecordBatch");
      }
    }
  }
}
