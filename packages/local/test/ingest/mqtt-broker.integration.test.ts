import { describe, expect, it } from "vitest";
import { startMqttBroker, type PublishedMessage } from "../../src/ingest/mqtt-broker.ts";
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
});
