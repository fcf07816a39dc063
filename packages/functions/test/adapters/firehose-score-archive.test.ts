import { FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { ScoredRecord } from "@driftwatch/core/scoring/scored-record";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";
import { FirehoseScoreArchive } from "../../src/adapters/firehose-score-archive.ts";
import { awsError } from "./aws-error-fixtures.ts";

const STREAM = "driftwatch-prod-scores";

function scored(i: number, extra = ""): ScoredRecord {
  return {
    deviceId: `dev-${i}`,
    ts: "2026-01-01T00:00:30.000Z",
    receivedAt: "2026-01-01T00:00:30.100Z",
    arrivedAt: "2026-01-01T00:00:30.200Z",
    windowStart: "2026-01-01T00:00:00.000Z",
    shardId: "shardId-000000000000",
    sequenceNumber: String(1000 + i),
    modelKey: "acme/t1",
    detectorKey: `dev-${i}`,
    manufacturer: "acme",
    model: "t1",
    metrics: { temperature: 20 + i },
    tags: extra ? { note: extra } : {},
    score: 0.5,
    grade: 0,
    anomaly: false,
    attribution: [],
    rules: [],
    latencyMs: 12,
  };
}

const text = (data: Uint8Array | undefined) => Buffer.from(data!).toString("utf8");

describe("FirehoseScoreArchive", () => {
  const firehose = mockClient(FirehoseClient);
  afterEach(() => firehose.reset());
  // The unit pool is not isolated: restore the SDK's own send() for the next file in this worker.
  afterAll(() => firehose.restore());
  const archive = (options = {}) =>
    new FirehoseScoreArchive(new FirehoseClient({}), STREAM, { baseDelayMs: 0, ...options });

  const requests = () => firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input);
  const lines = (records: ScoredRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join("");

  it("packs the NDJSON lines of a batch into one Firehose record (billed at its size, not 5 KB per line)", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    await archive().putMany([scored(1), scored(2)]);

    expect(firehose.calls()).toHaveLength(1);
    const input = requests()[0]!;
    expect(input.DeliveryStreamName).toBe(STREAM);
    expect(input.Records!.map((r) => text(r.Data))).toEqual([
      `${JSON.stringify(scored(1))}\n${JSON.stringify(scored(2))}\n`,
    ]);
  });

  it("puts 1,000 scores of a full batch in one record of their bytes", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const batch = Array.from({ length: 1000 }, (_, i) => scored(i));
    await archive().putMany(batch);
    expect(requests()).toHaveLength(1);
    expect(requests()[0]!.Records).toHaveLength(1);
    expect(text(requests()[0]!.Records![0]!.Data)).toBe(lines(batch));
  });

  it("sends nothing for no records", async () => {
    await archive().putMany([]);
    expect(firehose.calls()).toHaveLength(0);
  });

  it("keeps each record ≤ 1,000 KiB and each request ≤ 4 MiB, never splitting a line, bytes in order", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const big = "x".repeat(300_000);
    const batch = Array.from({ length: 20 }, (_, i) => scored(i, big));
    await archive().putMany(batch);
    const records = requests().flatMap((input) => input.Records!);
    // ~300 KB lines: three fit in 1,000 KiB, a fourth does not.
    expect(records.map((r) => text(r.Data).split("\n").length - 1)).toEqual([3, 3, 3, 3, 3, 3, 2]);
    for (const record of records) expect(record.Data!.length).toBeLessThanOrEqual(1000 * 1024);
    for (const input of requests()) {
      expect(input.Records!.reduce((sum, r) => sum + r.Data!.length, 0)).toBeLessThanOrEqual(4 * 1024 * 1024);
    }
    expect(requests().map((input) => input.Records!.length)).toEqual([4, 3]);
    // The S3 objects are the records' bytes concatenated: exactly the lines, in order.
    expect(records.map((r) => text(r.Data)).join("")).toBe(lines(batch));
  });

  it("splits at 500 records per request", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    // Records no larger than one line: the request limit, not the record size, splits.
    await archive({ maxRecordBytes: 1 }).putMany(Array.from({ length: 1201 }, (_, i) => scored(i)));
    expect(requests().map((input) => input.Records!.length)).toEqual([500, 500, 201]);
  });

  it("retries only the records Firehose reports as throttled, then succeeds", async () => {
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 1,
        RequestResponses: [
          { RecordId: "r1" },
          { ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down." },
          { RecordId: "r3" },
        ],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: "r2" }] });
    // One line per record here, so the retried record is exactly the second line.
    await archive({ maxRecordBytes: 1 }).putMany([scored(1), scored(2), scored(3)]);

    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.Records!.map((r) => text(r.Data))).toEqual([
      `${JSON.stringify(scored(2))}\n`,
    ]);
  });

  it("raises TransientError when records stay throttled after every attempt", async () => {
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 1,
      RequestResponses: [{ ErrorCode: "ServiceUnavailableException" }],
    });
    const error = await archive({ maxAttempts: 3 })
      .putMany([scored(1)])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe("scores PutRecordBatch left 1 records unaccepted");
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(3);
  });

  it("surfaces a throttled request as a TransientError (the invocation is retried)", async () => {
    firehose.on(PutRecordBatchCommand).rejects(awsError("ThrottlingException"));
    const error = await archive()
      .putMany([scored(1)])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe("scores PutRecordBatch failed: ThrottlingException");
  });

  it("reports access denied and a missing stream as a ConfigurationError", async () => {
    for (const name of ["AccessDeniedException", "ResourceNotFoundException"]) {
      firehose.reset();
      firehose.on(PutRecordBatchCommand).rejects(awsError(name));
      const error = await archive()
        .putMany([scored(1)])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(`scores PutRecordBatch failed: ${name}`);
    }
  });
});
