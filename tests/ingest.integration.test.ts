import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { topicPattern } from "@driftwatch/core/telemetry/error-record";
import { freePort } from "../packages/local/test/helpers/free-port.ts";
import {
  allFiles,
  connectMqtt,
  endMqtt,
  publish,
  rawZoneKey,
  readObject,
  readZone,
  runCli,
  startLocalInstance,
  type LocalInstance,
} from "../packages/local/test/helpers/local-instance.ts";

/**
 * The ingest path of local mode end to end, as a new user runs it: `driftwatch start` (child process, free
 * ports, temp data dir, 1 s Firehose buffer), `driftwatch devices import`, the four seed payloads and every bad
 * input of the issue over MQTT with a real client (and `mosquitto_pub` when installed), then the lake.
 */

const PHI = {
  names: ["Eugenia Gottlieb", "Marta Quist", "Nils Oberg"],
  dobs: ["08/27/1977", "03/14/1962", "11/30/1990"],
  patientIds: ["patient2605", "patient7777", "patient8888"],
};
const phiValues = [...PHI.names, ...PHI.dobs, ...PHI.patientIds];

const devices = [
  { deviceId: "device8401", manufacturer: "Imported Medical", model: "IM-1", site: "ward-9" },
  { deviceId: "STATION42", manufacturer: "Imported Weather", model: "IW-2" },
  { deviceId: "ABC123456", manufacturer: "Imported Fans", model: "IF-3", site: "lab-9" },
  { deviceId: "pump-it-1", manufacturer: "Imported Pumps", model: "IP-4", site: "plant-x" },
];

const medical = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    timestamp: "2018-01-27T05:11:50",
    device_id: "device8401",
    patient_id: PHI.patientIds[0],
    name: PHI.names[0],
    dob: PHI.dobs[0],
    temperature: 100.3,
    pulse: 108.6,
    oxygen_percent: 48.4,
    systolic: 110.2,
    diastolic: 75.6,
    ...overrides,
  });

/** The seed payloads on their topics; `n` varies the event time so repeated sends are distinct readings. */
function seedMessages(n: number): { topic: string; payload: string; deviceId: string; source: string }[] {
  const second = String(n).padStart(2, "0");
  return [
    {
      topic: "LifeSupportDevice/Sensor",
      payload: medical({ timestamp: `2018-01-27T05:11:${second}` }),
      deviceId: "device8401",
      source: "medical",
    },
    {
      topic: "weather/wa/seattle/STATION42/temp/SENSOR7",
      payload: JSON.stringify({
        value: 0.610802791886758,
        direction: -1,
        smoothed: 0.9843152123890655,
        timestamp: 1472611226005 + n,
      }),
      deviceId: "STATION42",
      source: "weather",
    },
    {
      topic: "IoT_TOPIC/recieve",
      payload: JSON.stringify({
        TIME: `2024-05-01T12:00:${second}.000000`,
        FANID: "ABC123456",
        FREQ: 40,
        RPM: 1200,
      }),
      deviceId: "ABC123456",
      source: "fan",
    },
    {
      topic: "dt/plant-x/pump-it-1/telemetry",
      payload: JSON.stringify({
        deviceId: "pump-it-1",
        ts: `2024-05-01T12:00:${second}Z`,
        metrics: { temperature: 45.1, pressure: 4.2 },
      }),
      deviceId: "pump-it-1",
      source: "canonical",
    },
  ];
}

function garbage(bytes: number): Buffer {
  // Deterministic "binary garbage": invalid UTF-8 everywhere (0xff, 0xfe never occur in UTF-8).
  const out = Buffer.alloc(bytes);
  let x = 12345;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = i % 7 === 0 ? 0xff : (x >> 16) & 0xff;
  }
  return out;
}

/** `stage: "broker"`: refused by the broker (AWS IoT Core's limits), the client disconnected; never in raw/. */
const badInputs: {
  label: string;
  topic: string;
  payload: string | Buffer;
  code: string;
  stage?: "broker";
}[] = [
  {
    label: "malformed JSON",
    topic: "dt/plant-x/pump-it-1/telemetry",
    payload: '{"deviceId":"pump-it-1","ts":',
    code: "INVALID_JSON",
  },
  {
    label: "wrong types",
    topic: "dt/plant-x/pump-it-1/telemetry",
    payload: JSON.stringify({
      deviceId: "pump-it-1",
      ts: "2024-05-01T12:00:00Z",
      metrics: { temperature: "hot" },
    }),
    code: "SCHEMA_INVALID",
  },
  {
    label: "missing device id",
    topic: "LifeSupportDevice/Sensor",
    payload: medical({
      device_id: undefined,
      patient_id: PHI.patientIds[2],
      name: PHI.names[2],
      dob: PHI.dobs[2],
    }),
    code: "MISSING_DEVICE_ID",
  },
  {
    label: "non-finite number",
    topic: "dt/plant-x/pump-it-1/telemetry",
    payload: '{"deviceId":"pump-it-1","ts":"2024-05-01T12:00:00Z","metrics":{"temperature":1e999}}',
    code: "NON_FINITE_METRIC",
  },
  {
    label: "unknown device",
    topic: "LifeSupportDevice/Sensor",
    payload: medical({
      device_id: "device0001",
      patient_id: PHI.patientIds[1],
      name: PHI.names[1],
      dob: PHI.dobs[1],
    }),
    code: "UNKNOWN_DEVICE",
  },
  {
    label: "payload over 128 KB",
    topic: "LifeSupportDevice/Sensor",
    payload: medical({ note: "x".repeat(140 * 1024) }),
    code: "PAYLOAD_TOO_LARGE",
    stage: "broker",
  },
  {
    label: "a topic with more than 7 slashes",
    topic: "dt/plant-x/pump-it-1/telemetry/a/b/c/d/e",
    payload: '{"deviceId":"pump-it-1"}',
    code: "TOO_MANY_TOPIC_LEVELS",
    stage: "broker",
  },
  {
    label: "40,000-deep nested arrays",
    topic: "LifeSupportDevice/Sensor",
    payload: `{"device_id":"device8401","x":${"[".repeat(40_000)}${"]".repeat(40_000)}}`,
    code: "NESTING_TOO_DEEP",
  },
  {
    label: "PHI in free text and near-miss keys",
    topic: "LifeSupportDevice/Sensor",
    payload: medical({
      pulse: "fast",
      notes: "patient Eugenia Gottlieb born 08/27/1977",
      full_name: "Eugenia Gottlieb",
    }),
    code: "SCHEMA_INVALID",
  },
  {
    label: "unknown topic",
    topic: "factory/line-1/sensor",
    payload: '{"deviceId":"pump-it-1","value":1}',
    code: "UNKNOWN_TOPIC",
  },
  { label: "binary garbage", topic: "dt/plant-x/pump-it-1/telemetry", payload: garbage(300), code: "BINARY" },
];

const sha256 = (payload: string | Buffer) => crypto.createHash("sha256").update(payload).digest("hex");
const hasMosquitto = spawnSync("mosquitto_pub", ["--help"], { stdio: "ignore" }).error === undefined;

/** Waits until the lake holds at least `count` records in readings/ + errors/ (or throws after `ms`). */
async function waitForLake(dataDir: string, count: number, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const have = readZone(dataDir, "readings").length + readZone(dataDir, "errors").length;
    if (have >= count) return;
    if (Date.now() > deadline) throw new Error(`lake holds ${have} records, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every PHI value found in clear in the file (gunzipped when compressed; sealed files are scanned as-is). */
function phiIn(bytes: Buffer): string[] {
  const text = bytes.toString("latin1");
  return phiValues.filter((value) => text.includes(value));
}

describe("local mode ingest path (driftwatch start)", () => {
  let instance: LocalInstance;
  let dataDir: string;
  const published: { topic: string; payload: string | Buffer }[] = [];
  let cliOutput = "";

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-ingest-it-"));
    instance = await startLocalInstance({ dataDir });
  });

  afterAll(async () => {
    await instance?.stop("SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("imports devices over HTTP with `driftwatch devices import`, idempotently, with readable errors", async () => {
    const file = path.join(dataDir, "..", `${path.basename(dataDir)}-devices.json`);
    fs.writeFileSync(file, JSON.stringify(devices));
    const env = { HTTP_PORT: String(instance.httpPort), DRIFTWATCH_DATA_DIR: instance.dataDir };
    for (let i = 0; i < 2; i++) {
      const result = await runCli(["devices", "import", file], env);
      cliOutput += result.stdout + result.stderr;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("imported 4 devices");
    }
    const token = (await runCli(["token", "--role", "viewer"], env)).stdout.trim();
    const listed = (await (
      await fetch(`http://127.0.0.1:${instance.httpPort}/api/devices`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as typeof devices;
    for (const device of devices) expect(listed).toContainEqual(expect.objectContaining(device));

    fs.writeFileSync(
      file,
      JSON.stringify([
        devices[0],
        { deviceId: "x", model: "m" },
        { deviceId: "", manufacturer: "a", model: "b" },
      ]),
    );
    const invalid = await runCli(["devices", "import", file], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("[1].manufacturer is required");
    expect(invalid.stderr).toContain("[2].deviceId must not be empty");

    const closedPort = String(await freePort());
    fs.writeFileSync(file, JSON.stringify(devices));
    const nobody = await runCli(["devices", "import", file], { HTTP_PORT: closedPort });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain(
      `no Driftwatch local instance is running at http://127.0.0.1:${closedPort} (start one with \`npm start\``,
    );
    fs.rmSync(file);
  });

  it("turns the seed payloads into de-identified, enriched readings and every bad input into one error record", async () => {
    const client = await connectMqtt(instance.mqttPort, "it-publisher");
    for (const message of seedMessages(1)) {
      await publish(client, message.topic, message.payload);
      published.push(message);
    }
    for (const bad of badInputs) {
      if (bad.stage === "broker") {
        // Refused at the broker: the client is disconnected (MQTT 3.1.1 has no negative PUBACK).
        const refused = await connectMqtt(instance.mqttPort);
        const closed = new Promise<void>((resolve) => refused.once("close", () => resolve()));
        refused.publish(bad.topic, bad.payload, { qos: 1 });
        await closed;
        refused.end(true);
      } else {
        await publish(client, bad.topic, bad.payload);
      }
      published.push(bad);
    }
    await endMqtt(client);
    if (hasMosquitto) {
      for (const message of seedMessages(2)) {
        const result = spawnSync("mosquitto_pub", [
          "-h",
          "127.0.0.1",
          "-p",
          String(instance.mqttPort),
          "-q",
          "1",
          "-t",
          message.topic,
          "-m",
          message.payload,
        ]);
        expect(result.status, result.stderr.toString()).toBe(0);
        published.push(message);
      }
    }

    await waitForLake(dataDir, published.length);
    const readings = readZone(dataDir, "readings");
    const errors = readZone(dataDir, "errors");
    const seedCount = hasMosquitto ? 8 : 4;
    expect(readings).toHaveLength(seedCount);
    expect(errors).toHaveLength(badInputs.length);

    // Enriched from the imported registry entries, de-identified, one per seed message.
    for (const message of published.filter((m) => "deviceId" in m) as ReturnType<typeof seedMessages>) {
      const device = devices.find((d) => d.deviceId === message.deviceId)!;
      const matching = readings.filter((r) => r.deviceId === message.deviceId && r.source === message.source);
      expect(matching.length).toBe(hasMosquitto ? 2 : 1);
      for (const reading of matching) {
        expect(reading).toMatchObject({
          manufacturer: device.manufacturer,
          model: device.model,
          topic: message.topic,
        });
        if (device.site) expect(reading.site).toBe(device.site);
      }
    }
    const medicalReadings = readings.filter((r) => r.source === "medical");
    for (const reading of medicalReadings) {
      expect(reading).not.toHaveProperty("name");
      expect(reading).not.toHaveProperty("dob");
      expect((reading.tags as Record<string, string>).patient_id).toMatch(/^tok_/);
      expect(reading.metrics).toEqual({
        temperature: 100.3,
        pulse: 108.6,
        oxygen_percent: 48.4,
        systolic: 110.2,
        diastolic: 75.6,
      });
    }
    expect(readings.find((r) => r.source === "weather")?.metrics).toMatchObject({ temp: 0.610802791886758 });
    expect(readings.find((r) => r.source === "fan")?.metrics).toEqual({ FREQ: 40, RPM: 1200 });

    // Each bad input exactly once under errors/, with its reason.
    for (const bad of badInputs) {
      // Payloads over the limit are not hashed by the transform (too large to keep); they are known by size.
      const records = errors.filter((e) =>
        e.payloadSha256 === undefined
          ? e.payloadBytes === Buffer.byteLength(bad.payload)
          : e.payloadSha256 === sha256(bad.payload),
      );
      expect(records, bad.label).toHaveLength(1);
      expect(records[0].code, bad.label).toBe(bad.code);
      expect(typeof records[0].reason, bad.label).toBe("string");
      // Never a value in clear: the topic as a pattern, fields as paths and types.
      expect(records[0].topicPattern, bad.label).toBe(topicPattern(bad.topic));
      expect(records[0].stage, bad.label).toBe(bad.stage ?? "transform");
      expect(records[0], bad.label).not.toHaveProperty("payload");
    }
    for (const value of phiValues) expect(JSON.stringify(errors)).not.toContain(value);

    // Every published message is accounted for, and backed up (sealed) under raw/.
    expect(readings.length + errors.length).toBe(published.length);
    const reachedRules = published.filter((m) => !("stage" in m && m.stage === "broker"));
    const raw = readZone(dataDir, "raw");
    expect(raw).toHaveLength(reachedRules.length);
    const rawPayloads = raw
      .map((envelope) => sha256(Buffer.from(envelope.payload as string, "base64")))
      .sort();
    expect(rawPayloads).toEqual(reachedRules.map((m) => sha256(m.payload)).sort());
    expect(allFiles(path.join(dataDir, "lake", "raw")).every((f) => f.endsWith(".gz.enc"))).toBe(true);

    // The status board counts them (JSON); `/` serves the console (or, unbuilt, a page saying how to build it).
    const base = `http://127.0.0.1:${instance.httpPort}`;
    const status = (await (await fetch(`${base}/api/status`)).json()) as { counters: Record<string, number> };
    expect(status.counters["mqtt.messages"]).toBe(reachedRules.length);
    expect(status.counters["mqtt.rejected"]).toBe(published.length - reachedRules.length);
    expect(status.counters["lake.readings"]).toBe(readings.length);
    expect(status.counters["lake.errors"]).toBe(errors.length);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toMatch(/Driftwatch/);
  });

  it("keeps every name, date of birth and patient id out of clear text everywhere under the data dir", async () => {
    const files = allFiles(dataDir);
    expect(files.length).toBeGreaterThan(5);
    const found: string[] = [];
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      const views = [bytes];
      if (file.endsWith(".gz")) views.push(readObject(file));
      for (const view of views)
        for (const value of phiIn(view)) found.push(`${path.relative(dataDir, file)}: ${value}`);
    }
    expect(found).toEqual([]);
    expect(phiIn(Buffer.from(instance.output() + cliOutput))).toEqual([]);
    // The scan can find them: opened with the raw zone's key (break-glass), the source backup holds them all.
    const rawFiles = allFiles(path.join(dataDir, "lake", "raw"));
    const sources = rawFiles.flatMap((file) =>
      readObject(file, rawZoneKey(dataDir))
        .toString("utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => Buffer.from(JSON.parse(line).payload, "base64")),
    );
    expect(phiIn(Buffer.concat(sources)).sort()).toEqual([...phiValues].sort());
    // The log file exists and holds the handler's logs (which must not carry PHI either: checked above).
    expect(fs.readFileSync(path.join(dataDir, "logs", "local.log"), "utf8")).toContain("transformed batch");
  });

  it("flushes the buffer on Ctrl-C, and keeps registry and tokens across a restart", async () => {
    const firstToken = (
      readZone(dataDir, "readings").find((r) => r.source === "medical")!.tags as Record<string, string>
    ).patient_id;
    expect(await instance.stop("SIGINT")).toBe(0);
    expect(instance.output()).toContain("flushing and stopping");

    // Restart on the same data dir with a long buffer: only the Ctrl-C flush can deliver the next message.
    // The Firehose feed (lake feed `firehose`): readings wait in its buffer (the stream feed writes within a second).
    instance = await startLocalInstance({
      dataDir,
      env: { DRIFTWATCH_FIREHOSE_BUFFER_SECONDS: "300", DRIFTWATCH_LAKE_FEED: "firehose" },
    });
    const before = readZone(dataDir, "readings").length;
    const client = await connectMqtt(instance.mqttPort);
    await publish(client, "LifeSupportDevice/Sensor", medical({ timestamp: "2018-01-27T06:00:00" }));
    await endMqtt(client);
    // The message is durable in the Firehose spool (the IoT rule's delivery), yet not in the lake: the buffer holds it.
    const spool = path.join(dataDir, "firehose", "spool");
    await vi.waitFor(() => expect(allFiles(spool).length).toBeGreaterThan(0), {
      timeout: 30_000,
      interval: 50,
    });
    expect(readZone(dataDir, "readings")).toHaveLength(before);
    expect(await instance.stop("SIGINT")).toBe(0);

    const readings = readZone(dataDir, "readings");
    expect(readings).toHaveLength(before + 1);
    const last = readings.find((r) => r.ts === "2018-01-27T06:00:00.000Z")!;
    expect(last).toMatchObject({ deviceId: "device8401", manufacturer: "Imported Medical", model: "IM-1" });
    expect((last.tags as Record<string, string>).patient_id).toBe(firstToken);
    expect(fs.existsSync(path.join(dataDir, "driftwatch.pid"))).toBe(false);
    expect(allFiles(path.join(dataDir, "firehose", "spool"))).toEqual([]);
  });
});
