import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import type { FirehoseTransformationEvent, KinesisStreamEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransientError } from "@driftwatch/core/shared/errors";
import { windowTickEnvelope } from "@driftwatch/core/scoring/window-tick";
import { fixedClock } from "@driftwatch/core/testing";
import { transformRecords } from "../../src/firehose/transform.ts";
import { createLakeWriteHandler, writeLakeBatch } from "../../src/kinesis/lake-write.ts";
import { configureObservability } from "../../src/shared/observability.ts";
import { inMemoryDeps, lambdaContext, phiValues } from "../support/in-memory-deps.ts";

const fixtures = path.join(import.meta.dirname, "..", "fixtures");
const firehoseEvent: FirehoseTransformationEvent = JSON.parse(
  readFileSync(path.join(fixtures, "firehose-ingest-mixed.json"), "utf8"),
);

/** The same messages as the Firehose fixture, as the telemetry stream delivers them to the lake writer. */
function kinesisEvent(records = firehoseEvent.records, shardId = "shardId-000000000003"): KinesisStreamEvent {
  return {
    Records: records.map((record, i) => {
      const sequenceNumber = String(49_650_000_000_000_000_000n + BigInt(i));
      return {
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: `key-${i}`,
          sequenceNumber,
          data: record.data,
          approximateArrivalTimestamp: record.approximateArrivalTimestamp / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: "aws:kinesis:record",
        invokeIdentityArn: "arn:aws:iam::123456789012:role/lake-writer",
        awsRegion: "us-east-1",
        eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/telemetry",
      };
    }),
  };
}

class MemoryLake {
  readonly objects = new Map<string, { zone: string; body: Buffer }>();
  failNext = 0;
  async put(object: { zone: "readings" | "errors" | "raw"; key: string; body: Uint8Array }): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new TransientError("S3 is throttling", { code: "THROTTLED" });
    }
    this.objects.set(object.key, { zone: object.zone, body: Buffer.from(object.body) });
  }
  lines(zone: string): string[] {
    return [...this.objects.values()]
      .filter((o) => o.zone === zone)
      .flatMap((o) => gunzipSync(o.body).toString("utf8").split("\n").filter(Boolean));
  }
}

beforeEach(() => configureObservability({ logSink: () => undefined, logLevel: "WARN", metrics: "off" }));
afterEach(() => configureObservability({ logSink: undefined, logLevel: "INFO", metrics: "stdout" }));

describe("lake writer (telemetry stream → lake)", () => {
  it("writes exactly the readings and error records the Firehose transformation writes for the same messages", async () => {
    const clock = fixedClock(Date.parse("2024-03-01T12:30:00Z"));
    const firehose = await transformRecords(firehoseEvent, { ...inMemoryDeps().deps, clock });
    const expected = { readings: [] as string[], errors: [] as string[] };
    for (const record of firehose.result.records) {
      if (record.result !== "Ok") continue;
      const zone = record.metadata!.partitionKeys.zone as "readings" | "errors";
      expected[zone].push(Buffer.from(record.data!, "base64").toString("utf8").trimEnd());
    }
    const lake = new MemoryLake();
    const { summary } = await writeLakeBatch(kinesisEvent(), { ...inMemoryDeps().deps, clock, store: lake });

    expect(lake.lines("readings")).toEqual(expected.readings);
    // Error records are the same but for `recordId`: the stream's sequence number instead of Firehose's record id.
    const withoutId = (line: string) => ({ ...JSON.parse(line), recordId: undefined });
    expect(lake.lines("errors").map(withoutId)).toEqual(expected.errors.map(withoutId));
    const sequenceNumbers = new Set(kinesisEvent().Records.map((r) => r.kinesis.sequenceNumber));
    for (const line of lake.lines("errors"))
      expect(sequenceNumbers.has(JSON.parse(line).recordId)).toBe(true);
    expect(summary).toMatchObject({ readings: expected.readings.length, rejected: expected.errors.length });
    // raw/: every message as it arrived (the duplicate too), one per line; PHI only there.
    const raw = lake.lines("raw");
    expect(raw).toHaveLength(firehoseEvent.records.length);
    expect(raw.map((line) => Buffer.from(line, "utf8").toString("base64"))).toEqual(
      firehoseEvent.records.map((r) =>
        Buffer.from(Buffer.from(r.data, "base64").toString("utf8").trimEnd()).toString("base64"),
      ),
    );
    for (const zone of ["readings", "errors"])
      for (const value of phiValues) expect(lake.lines(zone).join("\n")).not.toContain(value);
  });

  it("names objects by zone, arrival hour, shard and sequence range, so a retried batch overwrites its own objects", async () => {
    const lake = new MemoryLake();
    const deps = { ...inMemoryDeps().deps, clock: fixedClock(), store: lake };
    const first = await writeLakeBatch(kinesisEvent(), deps);
    const snapshot = new Map(lake.objects);
    const again = await writeLakeBatch(kinesisEvent(), deps);
    expect(again.keys).toEqual(first.keys);
    expect(lake.objects.size).toBe(snapshot.size);
    for (const [key, object] of lake.objects)
      expect(gunzipSync(object.body).equals(gunzipSync(snapshot.get(key)!.body)), key).toBe(true);
    const last = kinesisEvent().Records.at(-1)!.kinesis.sequenceNumber;
    expect(first.keys.sort()).toEqual(
      ["errors", "raw", "readings"].map(
        (zone) =>
          `${zone}/date=2024-03-01/hour=12/telemetry-shardId-000000000003-49650000000000000000-${last}.gz`,
      ),
    );
  });

  it("skips window ticks: they are not messages", async () => {
    const tick = Buffer.from(JSON.stringify(windowTickEnvelope(Date.parse("2024-03-01T12:00:00Z")))).toString(
      "base64",
    );
    const records = [
      { recordId: "t", approximateArrivalTimestamp: Date.parse("2024-03-01T12:00:01Z"), data: tick },
    ];
    const lake = new MemoryLake();
    const { summary, keys } = await writeLakeBatch(kinesisEvent(records), {
      ...inMemoryDeps().deps,
      store: lake,
    });
    expect(summary).toMatchObject({ records: 0, ticks: 1 });
    expect(keys).toEqual([]);
  });

  it("fails the invocation when an object cannot be written (the event source mapping retries the batch)", async () => {
    const lake = new MemoryLake();
    lake.failNext = 1;
    const handler = createLakeWriteHandler(async () => ({ ...inMemoryDeps().deps, store: lake }));
    await expect(handler(kinesisEvent(), lambdaContext)).rejects.toBeInstanceOf(TransientError);
    const result = await handler(kinesisEvent(), lambdaContext);
    expect(result).toMatchObject({ objects: 3, readings: expect.any(Number), rejected: expect.any(Number) });
    expect(lake.objects.size).toBe(3);
  });
});
