import { PutRecordBatchCommand, type FirehoseClient } from "@aws-sdk/client-firehose";
import type { ScoreArchive } from "@driftwatch/core/ports/score-archive";
import type { ScoredRecord } from "@driftwatch/core/scoring/scored-record";
import { TransientError } from "@driftwatch/core/shared/errors";
import { toDriftwatchError } from "./aws-errors.ts";

/** PutRecordBatch: at most 500 records and 4 MiB per request (a little under, for the request's own overhead). */
const MAX_RECORDS = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024;
/** A Firehose record holds at most 1,000 KiB. */
export const MAX_FIREHOSE_RECORD_BYTES = 1000 * 1024;

export interface FirehoseScoreArchiveOptions {
  /** Attempts per chunk for records Firehose reports as failed (default 6). */
  maxAttempts?: number;
  /** First backoff delay; doubles per attempt, capped at 2 s (default 100 ms). */
  baseDelayMs?: number;
  /** Largest Firehose record the lines are packed into (default and maximum 1,000 KiB). */
  maxRecordBytes?: number;
}

/**
 * Archives scored records through the `scores` Firehose delivery stream into `lake/scores/` (one NDJSON line per
 * record). Lines are packed, in order, into Firehose records of up to 1,000 KiB: Firehose bills each record in
 * 5 KB increments, so a ~400-byte line alone is billed as 5 KB, while a packed record is billed at its size (ADR
 * 1001). The stream has no transformation or record-level partitioning, so S3 objects are the concatenation of
 * the records' bytes: the same lines as one record per line. PutRecordBatch in chunks of ≤ 500 records / 4 MiB;
 * records Firehose reports as failed are retried with backoff; what still fails raises `TransientError` so the
 * invocation (and its records) is retried.
 */
export class FirehoseScoreArchive implements ScoreArchive {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxRecordBytes: number;

  constructor(
    private readonly firehose: FirehoseClient,
    private readonly deliveryStreamName: string,
    options: FirehoseScoreArchiveOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxRecordBytes = Math.min(
      MAX_FIREHOSE_RECORD_BYTES,
      options.maxRecordBytes ?? MAX_FIREHOSE_RECORD_BYTES,
    );
  }

  async putMany(records: readonly ScoredRecord[]): Promise<void> {
    let batch: Uint8Array[] = [];
    let bytes = 0;
    for (const data of this.pack(records)) {
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

  /** NDJSON lines packed in order into records of at most `maxRecordBytes` (a longer line is a record alone). */
  private *pack(records: readonly ScoredRecord[]): Generator<Uint8Array> {
    let lines: Buffer[] = [];
    let bytes = 0;
    for (const record of records) {
      const line = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
      if (lines.length > 0 && bytes + line.length > this.maxRecordBytes) {
        yield Buffer.concat(lines, bytes);
        lines = [];
        bytes = 0;
      }
      lines.push(line);
      bytes += line.length;
    }
    if (lines.length > 0) yield Buffer.concat(lines, bytes);
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
