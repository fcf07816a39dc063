import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allFiles,
  connectMqtt,
  endMqtt,
  publish,
  readZone,
  runCli,
  startLocalInstance,
  type LocalInstance,
} from "../packages/local/test/helpers/local-instance.ts";

/**
 * The stream-fed lake (ADR 1001, lake feed `stream`, local mode's default as production's): messages published over
 * MQTT reach the lake through the telemetry stream's lake writer — the same handler as the Lambda — each exactly
 * once, also across a Ctrl-C and restart (the writer's own checkpoint), while unknown topics still reach errors/
 * through the Firehose stream.
 */
const devices = [{ deviceId: "pump-s1", manufacturer: "Stream Pumps", model: "SP-1", site: "plant-s" }];
const message = (i: number) => ({
  topic: "dt/plant-s/pump-s1/telemetry",
  payload: JSON.stringify({
    deviceId: "pump-s1",
    ts: Date.UTC(2026, 11, 2, 10, 0, 0) + i * 1000,
    metrics: { pressure: 1 + i / 100, flow: 10 },
  }),
});

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const readingTimes = (dataDir: string) =>
  readZone(dataDir, "readings")
    .filter((r) => r.deviceId === "pump-s1")
    .map((r) => r.ts as string);

describe("local mode: the lake fed from the telemetry stream", () => {
  let instance: LocalInstance;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-stream-lake-it-"));
    instance = await startLocalInstance({ dataDir });
    const file = path.join(dataDir, "..", `${path.basename(dataDir)}-devices.json`);
    fs.writeFileSync(file, JSON.stringify(devices));
    const result = await runCli(["devices", "import", file], {
      HTTP_PORT: String(instance.httpPort),
      DRIFTWATCH_DATA_DIR: dataDir,
    });
    fs.rmSync(file);
    expect(result.code, result.stderr).toBe(0);
  });

  afterAll(async () => {
    await instance?.stop("SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("writes every published reading to lake/readings exactly once, named by shard and sequence range", async () => {
    const n = 50;
    const client = await connectMqtt(instance.mqttPort, "stream-lake-it");
    for (let i = 0; i < n; i++) await publish(client, message(i).topic, message(i).payload);
    await publish(client, "dt/plant-s/pump-s1/unknown-kind", '{"deviceId":"pump-s1"}');
    await endMqtt(client);

    const times = await waitFor("50 readings", () => {
      const found = readingTimes(dataDir);
      return found.length >= n ? found : undefined;
    });
    expect(times).toHaveLength(n);
    expect(new Set(times).size).toBe(n);
    expect(instance.output() + fs.readFileSync(path.join(dataDir, "logs", "local.log"), "utf8")).toContain(
      "lake feed stream",
    );
    const readingFiles = allFiles(path.join(dataDir, "lake", "readings"));
    expect(readingFiles.length).toBeGreaterThan(0);
    for (const file of readingFiles) {
      expect(path.relative(path.join(dataDir, "lake"), file)).toMatch(
        /^readings\/date=\d{4}-\d\d-\d\d\/hour=\d\d\/telemetry-shardId-\d{12}-\d+-\d+\.gz$/,
      );
    }
    // The source backup holds each message once (sealed with the raw key), and the unknown topic became an
    // error record through the Firehose stream (the catch-all rule's target).
    await waitFor("the unknown topic's error record", () =>
      readZone(dataDir, "errors").some((e) => e.code === "UNKNOWN_TOPIC") ? true : undefined,
    );
    // The unknown topic's backup is written by the Firehose path, independently of its error record: wait for it.
    const raw = await waitFor("every message's raw backup", () => {
      const found = readZone(dataDir, "raw").filter((e) => String(e.topic).startsWith("dt/plant-s/pump-s1/"));
      return found.length >= n + 1 ? found : undefined;
    });
    expect(raw).toHaveLength(n + 1);
  });

  it("keeps exactly once across Ctrl-C and a restart (the writer resumes after its own checkpoint)", async () => {
    expect(await instance.stop("SIGINT")).toBe(0);
    instance = await startLocalInstance({ dataDir });
    const client = await connectMqtt(instance.mqttPort, "stream-lake-it-2");
    await publish(client, message(50).topic, message(50).payload);
    await endMqtt(client);
    const times = await waitFor("the 51st reading", () => {
      const found = readingTimes(dataDir);
      return found.length >= 51 ? found : undefined;
    });
    expect(times).toHaveLength(51);
    expect(new Set(times).size).toBe(51);
  });
});
