import { readFileSync } from "node:fs";
import path from "node:path";
import { KinesisClient, ListShardsCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import type { Context, ScheduledEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DetectorPool } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import { WINDOW_TICK_PARTITION_KEY, WINDOW_TICK_TOPIC } from "@driftwatch/core/scoring/window-tick";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";
import { CachedThresholds } from "@driftwatch/core/thresholds/cached-thresholds";
import { KinesisWindowTicks, WindowTickError } from "../../src/adapters/kinesis-window-ticks.ts";
import { createScoreHandler, type ScoreEvent } from "../../src/kinesis/score.ts";
import { createWindowTickHandler } from "../../src/kinesis/window-tick.ts";
import { configureObservability } from "../../src/shared/observability.ts";
import { memoryScoringPorts, testPreparer } from "../../../core/test/scoring/support.ts";
import { awsError } from "../adapters/aws-error-fixtures.ts";

const fixture = <T>(name: string) =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8")) as T;

const STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/test-driftwatch-Ingest-Telemetry";
const context = {
  functionName: "test-driftwatch-Scoring-WindowTick",
  awsRequestId: "7d2c3f4e-0000-4000-8000-000000000001",
  getRemainingTimeInMillis: () => 30_000,
} as Context;

/** Open shards as `ListShards` returns them. */
const SHARDS = [0, 1, 2].map((i) => ({
  ShardId: `shardId-00000000000${i}`,
  HashKeyRange: { StartingHashKey: String(2 * i), EndingHashKey: String(2 * i + 1) },
  SequenceNumberRange: {
    StartingSequenceNumber: `4959033827149025660855969253836157109592157598913658889${i}`,
  },
}));

describe("window-tick schedule handler", () => {
  const kinesis = mockClient(KinesisClient);
  let logs: string[];
  beforeEach(() => {
    logs = [];
    configureObservability({ logSink: (line) => logs.push(line), metrics: "sink", logLevel: "INFO" });
  });
  afterEach(() => kinesis.reset());
  // The unit pool is not isolated: restore the SDK's own send() for the next file in this worker.
  afterAll(() => kinesis.restore());

  const handler = () =>
    createWindowTickHandler(async () => ({
      shards: new KinesisWindowTicks(new KinesisClient({}), STREAM),
      now: () => 0,
    }));

  it("puts one tick per open shard (all pages), routed by the shard's starting hash key, stamped with the schedule time", async () => {
    kinesis
      .on(ListShardsCommand, { StreamARN: STREAM })
      .resolves({ Shards: SHARDS.slice(0, 2), NextToken: "page-2" })
      .on(ListShardsCommand, { NextToken: "page-2" })
      .resolves({ Shards: SHARDS.slice(2) });
    kinesis
      .on(PutRecordsCommand)
      .resolves({ FailedRecordCount: 0, Records: SHARDS.map(() => ({ SequenceNumber: "1" })) });

    const event = fixture<ScheduledEvent>("scheduled-event.json");
    expect(await handler()(event, context)).toEqual({ shards: 3 });

    const lists = kinesis.commandCalls(ListShardsCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { StreamARN: STREAM, ShardFilter: { Type: "AT_LATEST" } },
      { NextToken: "page-2" },
    ]);
    const puts = kinesis.commandCalls(PutRecordsCommand);
    expect(puts).toHaveLength(1);
    const input = puts[0].args[0].input;
    expect(input.StreamARN).toBe(STREAM);
    expect(input.Records!.map((r) => [r.ExplicitHashKey, r.PartitionKey])).toEqual([
      ["0", WINDOW_TICK_PARTITION_KEY],
      ["2", WINDOW_TICK_PARTITION_KEY],
      ["4", WINDOW_TICK_PARTITION_KEY],
    ]);
    const envelope = JSON.parse(Buffer.from(input.Records![0].Data!).toString("utf8"));
    expect(envelope).toEqual({
      topic: WINDOW_TICK_TOPIC,
      receivedAt: Date.parse(event.time),
      payload: Buffer.from("{}").toString("base64"),
    });
    expect(logs.some((l) => l.includes("window ticks put"))).toBe(true);
  });

  it("retries the entries Kinesis throttled once; what still fails is a WindowTickError (transient: the schedule retries)", async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: SHARDS });
    kinesis
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [
          { SequenceNumber: "1" },
          { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "slow down" },
          { SequenceNumber: "2" },
        ],
      })
      .resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: "3" }] });
    await handler()(fixture<ScheduledEvent>("scheduled-event.json"), context);
    const puts = kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records!);
    expect(puts.map((records) => records.map((r) => r.ExplicitHashKey))).toEqual([["0", "2", "4"], ["2"]]);

    kinesis.reset();
    kinesis.on(ListShardsCommand).resolves({ Shards: SHARDS.slice(0, 1) });
    kinesis.on(PutRecordsCommand).resolves({
      FailedRecordCount: 1,
      Records: [{ ErrorCode: "InternalFailure", ErrorMessage: "try again" }],
    });
    const error = await handler()(fixture<ScheduledEvent>("scheduled-event.json"), context).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WindowTickError);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain("shardId-000000000000");
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(2);
  });

  it("maps AWS failures: access denied is a ConfigurationError, throttling a TransientError", async () => {
    kinesis.on(ListShardsCommand).rejects(awsError("AccessDeniedException"));
    await expect(handler()(fixture<ScheduledEvent>("scheduled-event.json"), context)).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    kinesis.reset();
    kinesis.on(ListShardsCommand).resolves({ Shards: SHARDS });
    kinesis.on(PutRecordsCommand).rejects(awsError("ThrottlingException"));
    await expect(handler()(fixture<ScheduledEvent>("scheduled-event.json"), context)).rejects.toBeInstanceOf(
      TransientError,
    );
  });

  it("the tick it puts is what the scoring handler skips: the window closes, nothing is scored, rejected or archived", async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: SHARDS.slice(0, 1) });
    kinesis.on(PutRecordsCommand).resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: "1" }] });
    await handler()(fixture<ScheduledEvent>("scheduled-event.json"), context);
    const put = kinesis.commandCalls(PutRecordsCommand)[0].args[0].input.Records![0];

    const ports = memoryScoringPorts([]);
    const score = createScoreHandler(async () => ({
      preparer: testPreparer([]),
      detectors: new DetectorPool(rcfDetectorFactory(), ports.checkpoints, systemClock),
      thresholds: new CachedThresholds(ports.thresholds, systemClock),
      escalation: ports.escalation,
      metrics: ports.metrics,
      archive: ports.archive,
      checkpoints: ports.checkpoints,
      clock: systemClock,
      options: { windowMs: 60_000 },
    }));
    const final = fixture<ScoreEvent>("tumbling-window-final.json");
    const event: ScoreEvent = {
      ...final,
      window: { start: "2024-05-01T10:03:00Z", end: "2024-05-01T10:04:00Z" },
      Records: [
        {
          kinesis: {
            kinesisSchemaVersion: "1.0",
            partitionKey: put.PartitionKey!,
            sequenceNumber: "49590338271490256608559692538361571095921575989136588898",
            data: Buffer.from(put.Data!).toString("base64"),
            approximateArrivalTimestamp: Date.parse("2024-05-01T10:03:00.120Z") / 1000,
          },
          eventSource: "aws:kinesis",
          eventVersion: "1.0",
          eventID: "shardId-000000000000:49590338271490256608559692538361571095921575989136588898",
          eventName: "aws:kinesis:record",
          invokeIdentityArn: "arn:aws:iam::123456789012:role/test-driftwatch-Scoring-ScoreRole",
          awsRegion: "us-east-1",
          eventSourceARN: STREAM,
        },
      ],
    };
    const res = await score(event, context);
    expect(res.batchItemFailures).toEqual([]);
    expect(ports.archive.records).toEqual([]);
    expect(logs.some((l) => l.includes("window closed"))).toBe(true);
    // A tick is not a reading: no window aggregate is written for it.
    expect(ports.metrics.all()).toEqual([]);
  });
});
