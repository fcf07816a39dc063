import { describe, expect, it } from "vitest";
import { packEvent, unpackEvent } from "../../src/scoring/score-worker-protocol.ts";

const arn = "arn:aws:kinesis:us-east-1:000000000000:stream/driftwatch-local-telemetry";

/** An event as the event source mapping builds it (`event-source-mapping.ts`, `invoke`). */
function mappingEvent(shardId: string, count: number): Record<string, unknown> {
  return {
    Records: Array.from({ length: count }, (_, i) => {
      const sequenceNumber = `49600000000000${i}`;
      return {
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: `device-${i % 7}`,
          sequenceNumber,
          data: Buffer.from(`{"n":${i}}`).toString("base64"),
          approximateArrivalTimestamp: 1_796_299_200 + i / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: "aws:kinesis:record",
        invokeIdentityArn: "arn:aws:iam::000000000000:role/local-scoring",
        awsRegion: "us-east-1",
        eventSourceARN: arn,
      };
    }),
    window: { start: "2026-12-03T12:00:00Z", end: "2026-12-03T12:00:10Z" },
    state: { devices: { "device-1": { n: 3 } } },
    shardId,
    eventSourceARN: arn,
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
  };
}

/** Equal with keys in the same order (what a handler that serializes the event would see). */
const same = (a: unknown, b: unknown) => {
  expect(b).toEqual(a);
  expect(JSON.stringify(b)).toBe(JSON.stringify(a));
};

describe("invocation events across the scoring worker boundary", () => {
  it("packs the records in columns and unpacks the same event, keys in order", () => {
    const event = mappingEvent("shardId-000000000001", 50);
    const packed = packEvent(event);
    expect(packed.packed).toBe(true);
    if (!packed.packed) return;
    expect(packed.derivedEventId).toBe(true);
    expect(Object.keys(packed.records.columns)).toEqual([]);
    expect(Object.keys(packed.kinesis.columns)).toEqual([
      "partitionKey",
      "sequenceNumber",
      "data",
      "approximateArrivalTimestamp",
    ]);
    same(event, unpackEvent(structuredClone(packed)));
  });

  it("keeps an eventID that is not <shardId>:<sequenceNumber>, and per-record values of any field", () => {
    const event = mappingEvent("shardId-000000000000", 3);
    const records = event.Records as Record<string, unknown>[];
    records[1].eventID = "other";
    records[2].awsRegion = "eu-west-1";
    const packed = packEvent(event);
    expect(packed.packed && packed.derivedEventId).toBe(false);
    same(event, unpackEvent(structuredClone(packed)));
  });

  it("sends an event as it is when its records do not share one shape, or it has none", () => {
    const event = mappingEvent("shardId-000000000000", 3);
    const records = event.Records as Record<string, unknown>[];
    records[2] = { eventSource: "aws:kinesis", kinesis: records[2].kinesis };
    expect(packEvent(event).packed).toBe(false);
    same(event, unpackEvent(structuredClone(packEvent(event))));
    const final = { ...mappingEvent("shardId-000000000000", 0), isFinalInvokeForWindow: true };
    expect(packEvent(final).packed).toBe(false);
    same(final, unpackEvent(structuredClone(packEvent(final))));
    const undefinedValue = mappingEvent("shardId-000000000000", 2);
    ((undefinedValue.Records as Record<string, unknown>[])[0].kinesis as Record<string, unknown>).data =
      undefined;
    same(undefinedValue, unpackEvent(structuredClone(packEvent(undefinedValue))));
  });
});
