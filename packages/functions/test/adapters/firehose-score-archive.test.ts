import { FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
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
  const archive = (options = {}) =>
    new FirehoseScoreArchive(new FirehoseClient({}), STREAM, { baseDelayMs: 0, ...options });

  it("sends one PutRecordBatch to the stream with one NDJSON line per record", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    await archive().putMany([scored(1), scored(2)]);

    expect(firehose.calls()).toHaveLength(1);
    const input = firehose.commandCalls(PutRecordBatchCommand)[0]!.args[0].input;
    expect(input.DeliveryStreamName).toBe(STREAM);
    expect(input.Records!.map((r) => text(r.Data))).toEqual([
      `${JSON.stringify(scored(1))}\n`,
      `${JSON.stringify(scored(2))}\n`,
    ]);
  });

  it("sends nothing for no records", async () => {
    await archive().putMany([]);
    expect(firehose.calls()).toHaveLength(0);
  });

  it("splits at 500 records per request", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    await archive().putMany(Array.from({ length: 1201 }, (_, i) => scored(i)));
    expect(firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.Records!.length)).toEqual([
      500, 500, 201,
    ]);
  });

  it("splits below 4 MiB per request", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const big = "x".repeat(300_000);
    await archive().putMany(Array.from({ length: 20 }, (_, i) => scored(i, big)));
    const sizes = firehose
      .commandCalls(PutRecordBatchCommand)
      .map((c) => c.args[0].input.Records!.reduce((sum, r) => sum + r.Data!.length, 0));
    expect(sizes.length).toBe(2);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(
      firehose.commandCalls(PutRecordBatchCommand).flatMap((c) => c.args[0].input.Records!),
    ).toHaveLength(20);
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
    await archive().putMany([scored(1), scored(2), scored(3)]);

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
