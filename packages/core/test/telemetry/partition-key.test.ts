import { describe, expect, it } from "vitest";
import { derivePartitionKey } from "../../src/telemetry/partition-key.ts";
import { ingestRuleSql, payloadSources, resolvePayloadSource } from "../../src/telemetry/payload-sources.ts";
import { matchesTopicFilter, topicSegment } from "../../src/telemetry/topic-filter.ts";
import {
  canonicalPayload,
  canonicalTopic,
  fanPayload,
  fanTopic,
  medicalRecord,
  medicalTopic,
  weatherPayload,
  weatherTopic,
} from "./seed-payloads.ts";

describe("derivePartitionKey", () => {
  it("is the device id for every accepted shape, from bytes, text or object", () => {
    expect(derivePartitionKey(canonicalTopic, Buffer.from(JSON.stringify(canonicalPayload)))).toBe("pump-1");
    expect(derivePartitionKey(medicalTopic, JSON.stringify(medicalRecord))).toBe("device8401");
    expect(derivePartitionKey(weatherTopic, weatherPayload)).toBe("vzqHb8vghO");
    expect(derivePartitionKey(fanTopic, fanPayload)).toBe("ABC123456");
  });

  it("evaluates like the IoT templates: topic segments need no payload, payload fields need JSON", () => {
    expect(derivePartitionKey(canonicalTopic, Buffer.from([0xff, 0x00]))).toBe("pump-1");
    expect(derivePartitionKey(medicalTopic, "not json")).toBeUndefined();
    expect(derivePartitionKey(medicalTopic, { device_id: 42 })).toBe("42");
    expect(derivePartitionKey(fanTopic, {})).toBeUndefined();
    expect(derivePartitionKey("unknown/topic", fanPayload)).toBeUndefined();
  });

  it("publishes one IoT rule definition per shape, with the envelope SQL", () => {
    expect(
      payloadSources.map((source) => [source.source, source.topicFilter, source.partitionKeyTemplate]),
    ).toEqual([
      ["canonical", "dt/+/+/telemetry", "${topic(3)}"],
      ["medical", "LifeSupportDevice/Sensor", "${device_id}"],
      ["weather", "weather/+/+/+/+/+", "${topic(4)}"],
      ["fan", "IoT_TOPIC/recieve", "${FANID}"],
    ]);
    expect(ingestRuleSql("weather/+/+/+/+/+")).toBe(
      "SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt, newuuid() AS messageId FROM 'weather/+/+/+/+/+'",
    );
  });
});

describe("topics", () => {
  it("topic(n) is 1-based like IoT SQL", () => {
    expect(topicSegment(weatherTopic, 4)).toBe("vzqHb8vghO");
    expect(topicSegment(weatherTopic, 5)).toBe("vib");
    expect(topicSegment(weatherTopic, 6)).toBe("bQ7KcaMEas");
    expect(topicSegment(weatherTopic, 7)).toBeUndefined();
    expect(topicSegment(weatherTopic, 0)).toBe(weatherTopic);
  });

  it("matches filters by segment count", () => {
    expect(matchesTopicFilter("weather/+/+/+/+/+", weatherTopic)).toBe(true);
    expect(matchesTopicFilter("weather/+/+/+/+/+", `${weatherTopic}/extra`)).toBe(false);
    expect(matchesTopicFilter("dt/+/+/telemetry", "dt/a/b/status")).toBe(false);
    expect(matchesTopicFilter("dt/#", "dt/a/b/status")).toBe(true);
    expect(resolvePayloadSource("IoT_TOPIC/receive")).toBeUndefined();
  });
});
