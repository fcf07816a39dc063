import fs from "node:fs";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Aedes } from "aedes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulatedDevices } from "@driftwatch/core/simulator/devices";
import { parseGroundTruth } from "@driftwatch/core/simulator/ground-truth";
import type { SimulatedMessage } from "@driftwatch/core/simulator/simulation";
import { BrokerUnavailableError } from "../../src/simulate/mqtt-fleet.ts";
import { runSimulation } from "../../src/simulate/run-simulation.ts";
import { freePort } from "../helpers/free-port.ts";

/** A real MQTT 3.1.1 broker (aedes) on a free port, recording every client publish. */
async function startBroker() {
  const broker = await Aedes.createBroker();
  const received: { topic: string; payload: string; clientId: string }[] = [];
  const clientIds = new Set<string>();
  broker.on("publish", (packet, client) => {
    if (client)
      received.push({ topic: packet.topic, payload: packet.payload.toString(), clientId: client.id });
  });
  broker.on("client", (client) => clientIds.add(client.id));
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    received,
    clientIds,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const key = (m: { topic: string; payload: string }) => `${m.topic}\n${m.payload}`;

describe("runSimulation over MQTT", () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-simulate-"));
  });
  afterAll(async () => {
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("publishes every message once, over the requested connections, and labels its anomalies", async () => {
    broker.received.length = 0;
    broker.clientIds.clear();
    const published: SimulatedMessage[] = [];
    const groundTruthFile = path.join(dir, "truth.jsonl");
    const summary = await runSimulation({
      mqttUrl: broker.url,
      devices: simulatedDevices(12),
      clients: 4,
      rate: 400,
      count: 1200,
      seed: 3,
      anomalies: {
        kinds: ["spike", "drift", "stuck", "dropout"],
        rate: 0.03,
        durationsSeconds: { dropout: [0.2, 0.5] },
      },
      groundTruthFile,
      onPublish: (message) => published.push(message),
    });
    expect(summary.failed).toBe(0);
    expect(summary.sent).toBe(summary.attempted);
    expect(summary.attempted + summary.suppressed).toBe(1200);
    expect(summary.suppressed).toBeGreaterThan(0);
    expect(summary.stoppedEarly).toBe(false);
    // Exactly what was published arrived (QoS 1, acknowledged), nothing more.
    expect(broker.received.map(key).sort()).toEqual(published.map(key).sort());
    expect(broker.clientIds.size).toBe(4);
    // Devices share connections round-robin: device d on client d mod 4, so each client carries 3 devices.
    const devicesPerClient = new Map<string, Set<string>>();
    const deviceOf = new Map(published.map((m) => [key(m), m.deviceId]));
    for (const message of broker.received) {
      const set = devicesPerClient.get(message.clientId) ?? new Set();
      set.add(deviceOf.get(key(message))!);
      devicesPerClient.set(message.clientId, set);
    }
    expect([...devicesPerClient.values()].map((set) => set.size)).toEqual([3, 3, 3, 3]);
    const labels = parseGroundTruth(fs.readFileSync(groundTruthFile, "utf8"));
    expect(labels).toHaveLength(summary.labels);
    expect(labels.length).toBeGreaterThan(0);
    const dropouts = labels.filter((label) => label.kind === "dropout");
    expect(dropouts.reduce((sum, label) => sum + label.messages, 0)).toBe(summary.suppressed);
  });

  it("publishes through Basic Ingest to each topic's rule, prefix first, payload unchanged", async () => {
    broker.received.length = 0;
    const published: SimulatedMessage[] = [];
    const summary = await runSimulation({
      mqttUrl: broker.url,
      devices: simulatedDevices(8),
      rate: 400,
      count: 40,
      seed: 5,
      basicIngestStage: "local",
      onPublish: (message) => published.push(message),
    });
    expect(summary.failed).toBe(0);
    const rule = (topic: string) =>
      topic.startsWith("dt/")
        ? "canonical"
        : topic.startsWith("weather/")
          ? "weather"
          : topic.startsWith("IoT_TOPIC/")
            ? "fan"
            : "medical";
    expect(broker.received.map(key).sort()).toEqual(
      published
        .map((m) =>
          key({ topic: `$aws/rules/driftwatch_local_${rule(m.topic)}/${m.topic}`, payload: m.payload }),
        )
        .sort(),
    );
    expect(new Set(published.map((m) => rule(m.topic))).size).toBe(4);
  });

  it("paces messages: never ahead of k / rate", async () => {
    const times: number[] = [];
    const summary = await runSimulation({
      mqttUrl: broker.url,
      devices: simulatedDevices(5),
      rate: 100,
      count: 100,
      seed: 1,
      onPublish: () => times.push(performance.now()),
    });
    expect(summary.sent).toBe(100);
    // 100 messages at 100/s: the last is due 990 ms after the first.
    expect(times[99] - times[0]).toBeGreaterThanOrEqual(985);
    for (let k = 1; k < 100; k++) expect(times[k] - times[0]).toBeGreaterThanOrEqual(k * 10 - 5);
  });

  it("stops early on abort and still drains what it published", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const summary = await runSimulation({
      mqttUrl: broker.url,
      devices: simulatedDevices(4),
      rate: 50,
      seed: 1,
      signal: controller.signal,
    });
    expect(summary.stoppedEarly).toBe(true);
    expect(summary.plan.total).toBe(Infinity);
    expect(summary.sent).toBeGreaterThan(5);
    expect(summary.sent).toBe(summary.attempted);
  });

  it("says how to start a broker when none is listening", async () => {
    const port = await freePort();
    const error = await runSimulation({
      mqttUrl: `mqtt://127.0.0.1:${port}`,
      devices: simulatedDevices(2),
      rate: 10,
      count: 1,
      seed: 1,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as Error).message).toMatch(/connection refused.*npm start/);
  });
});
