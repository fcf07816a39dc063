import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Envelope } from "@driftwatch/core/telemetry/envelope";
import { createRuleRouter } from "../../src/ingest/rule-routing.ts";
import { matchRules, topicRules } from "../../src/ingest/topic-rules.ts";
import type { RuleTarget } from "../../src/runtime/context.ts";
import { StatusBoard } from "../../src/runtime/status-board.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

class Recorder implements RuleTarget {
  readonly got: { envelope: Envelope; key: string }[] = [];
  failures = 0;
  constructor(
    readonly name: string,
    readonly catchAll = false,
  ) {}
  async deliver(envelope: Envelope, key: string) {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("throttled");
    }
    this.got.push({ envelope, key });
  }
}

function setup() {
  const errorDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-rules-")), "rule-errors");
  dirs.push(path.dirname(errorDir));
  const firehose = new Recorder("firehose:ingest", true);
  const kinesis = new Recorder("kinesis:telemetry");
  const status = new StatusBoard();
  const route = createRuleRouter({ targets: () => [firehose, kinesis], errorDir, status, retryDelayMs: 1 });
  const message = (topic: string, payload: string | Buffer) => ({
    topic,
    payload: typeof payload === "string" ? Buffer.from(payload) : payload,
    receivedAt: Date.parse("2024-05-01T12:00:00Z"),
    qos: 1 as const,
  });
  const errorLines = () =>
    fs.existsSync(errorDir)
      ? fs.readdirSync(errorDir).flatMap((f) =>
          fs
            .readFileSync(path.join(errorDir, f), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l)),
        )
      : [];
  return { firehose, kinesis, status, route, message, errorLines };
}

describe("topic rules", () => {
  it("has one rule per accepted payload shape, matching the seeds' topics and nothing else", () => {
    expect(topicRules.map((r) => r.topicFilter).sort()).toEqual(
      ["IoT_TOPIC/recieve", "LifeSupportDevice/Sensor", "dt/+/+/telemetry", "weather/+/+/+/+/+"].sort(),
    );
    expect(matchRules("dt/plant-a/pump-1/telemetry").map((r) => r.name)).toEqual(["canonical"]);
    expect(matchRules("weather/wa/seattle/ST1/temp/S1").map((r) => r.name)).toEqual(["weather"]);
    expect(matchRules("IoT_TOPIC/recieve").map((r) => r.name)).toEqual(["fan"]);
    expect(matchRules("LifeSupportDevice/Sensor").map((r) => r.name)).toEqual(["medical"]);
    for (const topic of [
      "dt/a/telemetry",
      "dt/a/b/c/telemetry",
      "weather/wa/seattle/ST1/temp",
      "IoT_TOPIC/receive",
      "x",
    ]) {
      expect(matchRules(topic), topic).toEqual([]);
    }
  });
});

describe("createRuleRouter", () => {
  it("builds the envelope and delivers to every target with the device id as partition key", async () => {
    const { firehose, kinesis, route, message, status } = setup();
    await route(
      message("IoT_TOPIC/recieve", '{"TIME":"2024-05-01T12:00:00","FANID":"ABC123456","FREQ":40,"RPM":1200}'),
    );
    const envelope = firehose.got[0].envelope;
    expect(envelope.topic).toBe("IoT_TOPIC/recieve");
    expect(envelope.receivedAt).toBe(Date.parse("2024-05-01T12:00:00Z"));
    expect(JSON.parse(Buffer.from(envelope.payload, "base64").toString()).FANID).toBe("ABC123456");
    expect(kinesis.got).toEqual([{ envelope, key: "ABC123456" }]);
    expect(status.get("mqtt.messages")).toBe(1);
  });

  it("runs the named rule on a Basic Ingest topic with the prefix stripped, as topic() sees it on AWS", async () => {
    const { firehose, kinesis, route, message, status } = setup();
    const payload = '{"deviceId":"pump-1","ts":1714564800000,"metrics":{"temperature":20}}';
    await route(message("$aws/rules/driftwatch_local_canonical/dt/plant-a/pump-1/telemetry", payload));
    await route(message("dt/plant-a/pump-1/telemetry", payload));
    const [viaRule, viaBroker] = firehose.got;
    expect(viaRule!.envelope.topic).toBe("dt/plant-a/pump-1/telemetry");
    expect(viaRule!.envelope.payload).toBe(viaBroker!.envelope.payload);
    expect(kinesis.got.map((g) => g.key)).toEqual(["pump-1", "pump-1"]);
    expect(status.get("rules.basicIngest")).toBe(1);
    expect(status.get("rules.unmatched") ?? 0).toBe(0);
  });

  it("runs a rule named by Basic Ingest even when its filter does not match (AWS skips FROM), with its own key template", async () => {
    const { firehose, kinesis, route, message } = setup();
    // The weather rule's template is `${topic(4)}`: on a canonical topic that is `telemetry`, as AWS would compute.
    await route(message("$aws/rules/driftwatch_local_weather/dt/plant-a/pump-1/telemetry", "{}"));
    expect(firehose.got[0]!.envelope.topic).toBe("dt/plant-a/pump-1/telemetry");
    expect(kinesis.got.map((g) => g.key)).toEqual(["telemetry"]);
  });

  it("sends a Basic Ingest publish to an unknown rule to the catch-all with its whole topic (an error record)", async () => {
    const { firehose, kinesis, route, message, status } = setup();
    for (const topic of [
      "$aws/rules/driftwatch_production_canonical/dt/a/pump-1/telemetry",
      "$aws/rules/nope/x",
      "$aws/rules/driftwatch_local_canonical",
    ]) {
      await route(message(topic, "{}"));
    }
    expect(firehose.got.map((g) => g.envelope.topic)).toEqual([
      "$aws/rules/driftwatch_production_canonical/dt/a/pump-1/telemetry",
      "$aws/rules/nope/x",
      "$aws/rules/driftwatch_local_canonical",
    ]);
    expect(kinesis.got).toEqual([]);
    expect(status.get("rules.unmatched")).toBe(3);
  });

  it("sends an unmatched topic to the catch-all target only, without an error action", async () => {
    const { firehose, kinesis, route, message, status, errorLines } = setup();
    await route(message("factory/line-1", "hello"));
    expect(firehose.got).toHaveLength(1);
    expect(kinesis.got).toHaveLength(0);
    expect(status.get("rules.unmatched")).toBe(1);
    expect(errorLines()).toEqual([]);
  });

  it("records the Kinesis action's failure when the partition key template is empty, without the payload", async () => {
    const { firehose, kinesis, route, message, errorLines } = setup();
    const payload = '{"timestamp":"2018-01-27T05:11:50","name":"Eugenia Gottlieb","dob":"08/27/1977"}';
    await route(message("LifeSupportDevice/Sensor", payload));
    expect(firehose.got).toHaveLength(1);
    expect(kinesis.got).toHaveLength(0);
    const [line] = errorLines();
    expect(line).toMatchObject({
      rule: "medical",
      action: "kinesis:telemetry",
      topic: "LifeSupportDevice/Sensor",
      payloadBytes: payload.length,
    });
    expect(JSON.stringify(line)).not.toContain("Eugenia");
  });

  it("retries a failing action, then runs the error action; other actions are unaffected", async () => {
    const { firehose, kinesis, route, message, status, errorLines } = setup();
    kinesis.failures = 2;
    await route(message("dt/a/pump-1/telemetry", "{}"));
    expect(kinesis.got).toHaveLength(1);
    expect(errorLines()).toEqual([]);
    kinesis.failures = 5;
    await route(message("dt/a/pump-1/telemetry", "{}"));
    expect(firehose.got).toHaveLength(2);
    expect(kinesis.got).toHaveLength(1);
    expect(errorLines()).toHaveLength(1);
    expect(errorLines()[0].error).toEqual({ name: "Error", message: "throttled" });
    expect(status.get("rules.errors")).toBe(1);
  });
});

describe("rule routing with the stream-fed lake (lake feed `stream`, ADR 1001)", () => {
  it("gives the unmatched-only Firehose only what the stream does not carry: unknown topics, no device id", async () => {
    const errorDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-rules-")), "rule-errors");
    dirs.push(path.dirname(errorDir));
    const firehose = Object.assign(new Recorder("firehose:ingest", true), { unmatchedOnly: true });
    const kinesis = new Recorder("kinesis:telemetry");
    const route = createRuleRouter({ targets: () => [firehose, kinesis], errorDir, retryDelayMs: 1 });
    const at = Date.parse("2024-05-01T12:00:00Z");
    const send = (topic: string, payload: string) =>
      route({ topic, payload: Buffer.from(payload), receivedAt: at, qos: 1 });
    await send("dt/plant-a/pump-1/telemetry", '{"deviceId":"pump-1","ts":1,"metrics":{"p":1}}');
    await send("dt/plant-a/pump-1/unknown", '{"deviceId":"pump-1"}');
    await send("LifeSupportDevice/Sensor", '{"temperature":1}');
    expect(kinesis.got.map((g) => g.envelope.topic)).toEqual(["dt/plant-a/pump-1/telemetry"]);
    expect(firehose.got.map((g) => g.envelope.topic)).toEqual([
      "dt/plant-a/pump-1/unknown",
      "LifeSupportDevice/Sensor",
    ]);
  });
});
