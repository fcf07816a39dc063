import { describe, expect, it } from "vitest";
import {
  startMqttBroker,
  type BrokerRejection,
  type PublishedMessage,
} from "../../src/ingest/mqtt-broker.ts";
import { connectMqtt, endMqtt, publish } from "../helpers/local-instance.ts";

describe("MQTT broker in a worker thread", () => {
  it("forwards every message of many concurrent clients exactly once, QoS 0 and 1", async () => {
    const seen = new Map<string, number>();
    const broker = await startMqttBroker({
      host: "127.0.0.1",
      port: 0,
      onMessage: async (message) => {
        const key = `${message.topic}|${Buffer.from(message.payload).toString()}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      },
    });
    const clients = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connectMqtt(broker.port, `c${i}`)),
    );
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < 50; i++)
          await publish(client, `dt/s/dev-${c}/telemetry`, `m${i}`, (i % 2) as 0 | 1);
      }),
    );
    await Promise.all(clients.map(endMqtt));
    await broker.close();
    expect(seen.size).toBe(1000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it("acks QoS 1 only after the main thread handled the message, and close() waits for in-flight messages", async () => {
    const handled: PublishedMessage[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const broker = await startMqttBroker({
      host: "127.0.0.1",
      port: 0,
      onMessage: async (message) => {
        await gate;
        handled.push(message);
      },
    });
    const client = await connectMqtt(broker.port);
    let acked = false;
    const before = Date.now();
    const published = publish(client, "IoT_TOPIC/recieve", Buffer.from([0xff, 0x00, 0xfe]), 1).then(
      () => (acked = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(acked).toBe(false);
    expect(broker.inFlight()).toBe(1);
    release();
    await published;
    expect(handled).toHaveLength(1);
    expect(Buffer.from(handled[0].payload)).toEqual(Buffer.from([0xff, 0x00, 0xfe]));
    expect(handled[0].receivedAt).toBeGreaterThanOrEqual(before);
    await endMqtt(client);
    await broker.close();
    expect(broker.inFlight()).toBe(0);
  });

  it("says clearly when the port is taken", async () => {
    const first = await startMqttBroker({ host: "127.0.0.1", port: 0, onMessage: async () => {} });
    await expect(
      startMqttBroker({ host: "127.0.0.1", port: first.port, onMessage: async () => {} }),
    ).rejects.toThrow(new RegExp(`could not listen on 127.0.0.1:${first.port}: .*EADDRINUSE`));
    await first.close();
  });

  it("enforces AWS IoT Core's limits: payload 128 KB, topic 256 bytes, 7 slashes — refused, recorded once, client disconnected", async () => {
    const handled: string[] = [];
    const rejected: BrokerRejection[] = [];
    const broker = await startMqttBroker({
      host: "127.0.0.1",
      port: 0,
      onMessage: async (message) => {
        handled.push(message.topic);
      },
      onRejected: (rejection) => rejected.push(rejection),
    });
    const cases: [string, Buffer, string][] = [
      ["dt/s/big/telemetry", Buffer.alloc(128 * 1024 + 1, 0x61), "PAYLOAD_TOO_LARGE"],
      [`dt/s/${"x".repeat(250)}/telemetry`, Buffer.from("{}"), "TOPIC_TOO_LONG"],
      ["a/b/c/d/e/f/g/h/i", Buffer.from("{}"), "TOO_MANY_TOPIC_LEVELS"],
    ];
    for (const [topic, payload, code] of cases) {
      const client = await connectMqtt(broker.port);
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.publish(topic, payload, { qos: 1 });
      await closed; // refused: the broker disconnects the client, as AWS IoT Core does
      expect(rejected.at(-1)?.code).toBe(code);
      client.end(true);
    }
    expect(rejected).toHaveLength(3);
    expect(rejected[0].payloadBytes).toBe(128 * 1024 + 1);
    expect(rejected[0].payloadSha256).toMatch(/^[0-9a-f]{64}$/);

    // At the limits exactly: accepted.
    const client = await connectMqtt(broker.port);
    await publish(client, "a/b/c/d/e/f/g/h", Buffer.alloc(128 * 1024, 0x61), 1);
    await publish(client, `t/${"y".repeat(254)}`, "{}", 1);
    expect(handled).toEqual(["a/b/c/d/e/f/g/h", `t/${"y".repeat(254)}`]);
    await endMqtt(client);
    await broker.close();
  });

  it("accepts Basic Ingest publishes (prefix exempt from the 7 slashes) and refuses subscriptions to them", async () => {
    const handled: string[] = [];
    const broker = await startMqttBroker({
      host: "127.0.0.1",
      port: 0,
      onMessage: async (message) => {
        handled.push(message.topic);
      },
    });
    const watcher = await connectMqtt(broker.port, "watcher");
    // mqtt.js reports a SUBACK holding a failure code as an error that carries the packet.
    const granted = await new Promise<unknown>((resolve) =>
      watcher.subscribe(["$aws/rules/#", "dt/#"], { qos: 1 }, (error) =>
        resolve((error as { packet?: { granted?: unknown } } | null)?.packet?.granted),
      ),
    );
    expect(granted).toEqual([128, 1]);
    expect(watcher.connected).toBe(true);
    const client = await connectMqtt(broker.port, "device");
    const topic = "$aws/rules/driftwatch_local_weather/weather/wa/seattle/ST1/temp/S1"; // 9 slashes, 6 after the prefix
    await publish(client, topic, "{}", 1);
    expect(handled).toEqual([topic]);
    await Promise.all([endMqtt(client), endMqtt(watcher)]);
    await broker.close();
  });
});
