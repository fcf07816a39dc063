import { describe, expect, it } from "vitest";
import { createDeidentifier, defaultPhiCatalogue } from "../../src/privacy/deidentifier.ts";
import { createEncryptedPhiVault } from "../../src/privacy/encrypted-phi-vault.ts";
import { createEnvelopeCipher } from "../../src/privacy/envelope-cipher.ts";
import { createLocalKeyProvider } from "../../src/privacy/local-key-provider.ts";
import { TransientError, ValidationError } from "../../src/shared/errors.ts";
import { encodeEnvelope } from "../../src/telemetry/envelope.ts";
import { toErrorRecord } from "../../src/telemetry/error-record.ts";
import { InMemoryDeviceRegistry, InMemoryPhiVaultStore } from "../../testing/index.ts";
import { createReadingPreparer } from "../../src/telemetry/prepare.ts";
import { readingSchema } from "../../src/telemetry/reading.ts";
import {
  canonicalPayload,
  canonicalTopic,
  devices,
  expectNoPhiIn,
  fanPayload,
  fanTopic,
  medicalRecord,
  medicalTopic,
  randomKey,
  testTokenKey,
  weatherPayload,
  weatherTopic,
} from "./seed-payloads.ts";

const RECEIVED = Date.UTC(2024, 2, 1, 12, 0, 1);

function setup() {
  const deidentifier = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: testTokenKey });
  const store = new InMemoryPhiVaultStore();
  const vault = createEncryptedPhiVault({
    store,
    cipher: createEnvelopeCipher({ keyProvider: createLocalKeyProvider({ kek: randomKey() }) }),
  });
  const registry = new InMemoryDeviceRegistry(devices);
  const preparer = createReadingPreparer({ registry, deidentifier, vault });
  return { deidentifier, store, vault, registry, preparer };
}

const envelope = (topic: string, payload: unknown) =>
  encodeEnvelope(
    topic,
    typeof payload === "string" || payload instanceof Uint8Array ? payload : JSON.stringify(payload),
    RECEIVED,
  );

describe("prepare: accepted payloads", () => {
  it("medical (seed 003): five metrics, patient id tokenized, name and dob vaulted, enriched", async () => {
    const { preparer, deidentifier, vault, store } = setup();
    const { reading, partitionKey, modelKey, vaulted } = await preparer.prepare(
      envelope(medicalTopic, medicalRecord),
    );
    expect(readingSchema.parse(reading)).toEqual(reading);
    expect(reading).toEqual({
      readingId: expect.stringMatching(/^rd_[A-Za-z0-9_-]{22}$/),
      deviceId: "device8401",
      ts: "2018-01-27T05:11:50.000Z",
      receivedAt: new Date(RECEIVED).toISOString(),
      topic: medicalTopic,
      source: "medical",
      manufacturer: "Manufacturer 09",
      model: "Model 02",
      metrics: { temperature: 100.3, pulse: 108.6, oxygen_percent: 48.4, systolic: 110.2, diastolic: 75.6 },
      tags: { patient_id: deidentifier.tokenize("patient_id", "patient2605") },
    });
    expect(reading.tags.patient_id).toMatch(/^tok_[A-Za-z0-9_-]{22}$/);
    expect(partitionKey).toBe("device8401");
    expect(modelKey).toBe("Manufacturer 09#Model 02");
    expect(vaulted).toBe(2);
    expect(expectNoPhiIn(JSON.stringify(reading))).toEqual([]);
    // The vault holds the values encrypted, keyed by the patient's token, and they decrypt.
    expect(expectNoPhiIn(JSON.stringify([...store.records.values()]))).toEqual([]);
    expect(await vault.reveal(reading.tags.patient_id, "name")).toBe("Eugenia Gottlieb");
    expect(await vault.reveal(reading.tags.patient_id, "dob")).toBe("08/27/1977");
  });

  it("medical with epoch-ms timestamps, as number and as quoted digits (seed 003's generator templates)", async () => {
    const { preparer } = setup();
    const a = await preparer.prepare(envelope(medicalTopic, { ...medicalRecord, timestamp: 1508039751778 }));
    const b = await preparer.prepare(
      envelope(medicalTopic, { ...medicalRecord, timestamp: "1508039751778" }),
    );
    expect(a.reading.ts).toBe("2017-10-15T03:55:51.778Z");
    expect(b.reading.ts).toBe(a.reading.ts);
  });

  it("weather (seed 000): topic(n) mapping — station is the device, sensor type the metric", async () => {
    const { preparer } = setup();
    const { reading, partitionKey } = await preparer.prepare(envelope(weatherTopic, weatherPayload));
    expect(reading).toMatchObject({
      deviceId: "vzqHb8vghO",
      ts: "2016-08-31T02:40:26.005Z",
      source: "weather",
      manufacturer: "Acme Weather",
      metrics: { vib: 0.610802791886758, vib_smoothed: 0.9843152123890655 },
      tags: { state: "wa", city: "seattle", sensor_id: "bQ7KcaMEas", direction: "-1" },
    });
    expect(partitionKey).toBe("vzqHb8vghO");
  });

  it("weather without the optional smoothed/direction", async () => {
    const { preparer } = setup();
    const { reading } = await preparer.prepare(
      envelope(weatherTopic, { value: 1.5, timestamp: 1472611226005 }),
    );
    expect(reading.metrics).toEqual({ vib: 1.5 });
    expect(reading.tags.direction).toBeUndefined();
  });

  it("fan (seed 001): FANID is the device, FREQ and RPM the metrics; Python isoformat time", async () => {
    const { preparer } = setup();
    const { reading } = await preparer.prepare(envelope(fanTopic, fanPayload));
    expect(reading).toMatchObject({
      deviceId: "ABC123456",
      ts: "2024-03-01T12:00:00.123Z",
      source: "fan",
      metrics: { FREQ: 40, RPM: 1200 },
      tags: {},
    });
  });

  it("canonical: site from the registry over the topic, ts ISO or epoch ms", async () => {
    const { preparer } = setup();
    const { reading } = await preparer.prepare(envelope(canonicalTopic, canonicalPayload));
    expect(reading).toMatchObject({
      deviceId: "pump-1",
      site: "plant-7-registry",
      metrics: { pressure: 3.2, flow: 12.5 },
      source: "canonical",
    });
    const epoch = await preparer.prepare(
      envelope(canonicalTopic, { ...canonicalPayload, ts: Date.parse("2024-03-01T12:00:00Z") }),
    );
    expect(epoch.reading.ts).toBe("2024-03-01T12:00:00.000Z");
  });

  it("canonical: site from the topic when the registry has none; extra fields are ignored", async () => {
    const { preparer, registry } = setup();
    await registry.putMany([{ deviceId: "d2", manufacturer: "m", model: "x" }]);
    const { reading } = await preparer.prepare(
      envelope("dt/site-9/d2/telemetry", { deviceId: "d2", ts: 1709294400000, metrics: { a: 1 }, note: "x" }),
    );
    expect(reading.site).toBe("site-9");
    expect(JSON.stringify(reading)).not.toContain("note");
  });

  it("PHI in any payload shape is caught by the catalogue (a canonical payload carrying patient fields)", async () => {
    const { preparer, deidentifier } = setup();
    const { reading, vaulted } = await preparer.prepare(
      envelope(canonicalTopic, { ...canonicalPayload, patient_id: "patient2605", name: "Eugenia Gottlieb" }),
    );
    expect(reading.tags.patient_id).toBe(deidentifier.tokenize("patient_id", "patient2605"));
    expect(vaulted).toBe(1);
    expect(expectNoPhiIn(JSON.stringify(reading))).toEqual([]);
  });

  it("vaulted values without a tokenized identifier get a subject token tag", async () => {
    const { preparer, vault } = setup();
    const { reading } = await preparer.prepare(
      envelope(canonicalTopic, { ...canonicalPayload, dob: "08/27/1977" }),
    );
    expect(reading.tags.phi_subject).toMatch(/^tok_/);
    expect(await vault.reveal(reading.tags.phi_subject, "dob")).toBe("08/27/1977");
  });

  it("a metric named like a catalogued field is PHI, not a metric", async () => {
    const { preparer } = setup();
    const { reading, vaulted } = await preparer.prepare(
      envelope(canonicalTopic, { ...canonicalPayload, metrics: { pressure: 1, dob: 19770827 } }),
    );
    expect(reading.metrics).toEqual({ pressure: 1 });
    expect(vaulted).toBe(1);
  });

  it("scoring path: { vault: false } writes nothing but produces the same reading", async () => {
    const { preparer, store } = setup();
    const a = await preparer.prepare(envelope(medicalTopic, medicalRecord), { vault: false });
    expect(store.records.size).toBe(0);
    expect(a.vaulted).toBe(0);
    const b = await preparer.prepare(envelope(medicalTopic, medicalRecord));
    expect(b.reading).toEqual(a.reading);
  });

  it("vault writes are idempotent: the same record twice leaves the same items, written once", async () => {
    const { preparer, store } = setup();
    await preparer.prepare(envelope(medicalTopic, medicalRecord));
    await preparer.prepare(envelope(medicalTopic, medicalRecord));
    expect(store.records.size).toBe(2);
    expect(store.writes).toBe(2);
  });

  it("registry lookups go through the cache", async () => {
    const { preparer, registry } = setup();
    for (let i = 0; i < 10; i++) await preparer.prepare(envelope(fanTopic, fanPayload));
    expect(registry.lookups).toBe(1);
  });
});

/** Every bad input the issue lists, with the code and what the error record must say. */
const badInputs: { name: string; topic: string; payload: unknown; code: string; path?: string }[] = [
  {
    name: "malformed JSON",
    topic: medicalTopic,
    payload: '{"device_id": "device8401", "name": "Eugenia Gottlieb", "pulse": ',
    code: "INVALID_JSON",
  },
  { name: "JSON that is not an object", topic: canonicalTopic, payload: "[1,2,3]", code: "NOT_AN_OBJECT" },
  {
    name: "a reading whose only metric is a PHI field",
    topic: canonicalTopic,
    payload: { ...canonicalPayload, metrics: { name: 1 } },
    code: "NO_METRICS",
    path: "metrics.name",
  },
  {
    name: "a reading whose only metric is a near-miss PHI field",
    topic: canonicalTopic,
    payload: { ...canonicalPayload, metrics: { full_name: 1 } },
    code: "NO_METRICS",
  },
  {
    name: "40,000-deep nested arrays",
    topic: medicalTopic,
    payload: `{"device_id":"device8401","x":${"[".repeat(40_000)}${"]".repeat(40_000)}}`,
    code: "NESTING_TOO_DEEP",
  },
  {
    name: "a metric too large for finite window aggregates",
    topic: canonicalTopic,
    payload: { ...canonicalPayload, metrics: { flow: 1e200 } },
    code: "METRIC_OUT_OF_RANGE",
    path: "metrics.flow",
  },
  {
    name: "too many metrics",
    topic: canonicalTopic,
    payload: {
      ...canonicalPayload,
      metrics: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`m${i}`, i])),
    },
    code: "TOO_MANY_METRICS",
    path: "metrics",
  },
  { name: "empty payload", topic: canonicalTopic, payload: "", code: "EMPTY_PAYLOAD" },
  {
    name: "wrong type (string metric)",
    topic: medicalTopic,
    payload: { ...medicalRecord, pulse: "fast" },
    code: "SCHEMA_INVALID",
    path: "pulse",
  },
  {
    name: "wrong type (metrics not an object)",
    topic: canonicalTopic,
    payload: { ...canonicalPayload, metrics: [1, 2] },
    code: "SCHEMA_INVALID",
    path: "metrics",
  },
  {
    name: "wrong type (canonical metric value)",
    topic: canonicalTopic,
    payload: { ...canonicalPayload, metrics: { flow: true } },
    code: "SCHEMA_INVALID",
    path: "metrics.flow",
  },
  {
    name: "missing metric",
    topic: fanTopic,
    payload: { TIME: fanPayload.TIME, FANID: "ABC123456", FREQ: 40 },
    code: "SCHEMA_INVALID",
    path: "RPM",
  },
  {
    name: "bad timestamp",
    topic: fanTopic,
    payload: { ...fanPayload, TIME: "yesterday" },
    code: "SCHEMA_INVALID",
    path: "TIME",
  },
  {
    name: "epoch seconds instead of ms",
    topic: weatherTopic,
    payload: { ...weatherPayload, timestamp: 1472611226 },
    code: "SCHEMA_INVALID",
    path: "timestamp",
  },
  {
    name: "missing device id (medical)",
    topic: medicalTopic,
    payload: { ...medicalRecord, device_id: undefined },
    code: "MISSING_DEVICE_ID",
    path: "device_id",
  },
  {
    name: "missing device id (canonical)",
    topic: canonicalTopic,
    payload: { ts: canonicalPayload.ts, metrics: { a: 1 } },
    code: "MISSING_DEVICE_ID",
    path: "deviceId",
  },
  {
    name: "empty device id (fan)",
    topic: fanTopic,
    payload: { ...fanPayload, FANID: "" },
    code: "MISSING_DEVICE_ID",
    path: "FANID",
  },
  {
    name: "missing device id (weather topic segment)",
    topic: "weather/wa/seattle//vib/x",
    payload: weatherPayload,
    code: "MISSING_DEVICE_ID",
    path: "topic(4)",
  },
  {
    name: "device id differs from the topic",
    topic: canonicalTopic,
    payload: { ...canonicalPayload, deviceId: "pump-2" },
    code: "DEVICE_MISMATCH",
  },
  {
    name: "non-finite number (NaN literal)",
    topic: medicalTopic,
    payload: JSON.stringify(medicalRecord).replace("108.6", "NaN"),
    code: "NON_FINITE_METRIC",
    path: "pulse",
  },
  {
    name: "non-finite number (Infinity literal)",
    topic: canonicalTopic,
    payload: '{"deviceId":"pump-1","ts":1709294400000,"metrics":{"flow":-Infinity}}',
    code: "NON_FINITE_METRIC",
    path: "metrics.flow",
  },
  {
    name: "non-finite number (overflowing literal)",
    topic: fanTopic,
    payload: '{"TIME":"2024-03-01T12:00:00","FANID":"ABC123456","FREQ":1e999,"RPM":1}',
    code: "NON_FINITE_METRIC",
    path: "FREQ",
  },
  {
    name: "unknown device",
    topic: medicalTopic,
    payload: { ...medicalRecord, device_id: "device0000" },
    code: "UNKNOWN_DEVICE",
  },
  {
    name: "payload over 128 KB",
    topic: medicalTopic,
    payload: JSON.stringify({ ...medicalRecord, text: "x".repeat(128 * 1024) }),
    code: "PAYLOAD_TOO_LARGE",
  },
  { name: "unknown topic", topic: "patients/vitals", payload: medicalRecord, code: "UNKNOWN_TOPIC" },
  {
    name: "binary garbage",
    topic: medicalTopic,
    payload: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
    code: "BINARY",
  },
  {
    name: "binary with NUL bytes but valid UTF-8",
    topic: medicalTopic,
    payload: Buffer.from("{\u0000\u0001\u0002}"),
    code: "BINARY",
  },
];

describe("prepare: bad input", () => {
  it.each(badInputs)(
    "$name → $code, one PHI-free error record with the reason",
    async ({ topic, payload, code, path }) => {
      const { preparer, deidentifier, store } = setup();
      const env = envelope(topic, payload);
      const error = await preparer.prepare(env).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(code);
      if (path !== undefined)
        expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(path);
      expect(
        expectNoPhiIn(`${(error as Error).message} ${JSON.stringify((error as ValidationError).issues)}`),
      ).toEqual([]);
      expect(store.records.size).toBe(0);

      const record = toErrorRecord(env, error, "rec-1", { deidentifier });
      expect(record.code).toBe(code);
      expect(record.reason.length).toBeGreaterThan(0);
      expect(record.topicPattern).toBeDefined();
      expect(record.recordId).toBe("rec-1");
      expect(expectNoPhiIn(JSON.stringify(record))).toEqual([]);
    },
  );
});

describe("prepare: dependencies", () => {
  it("a registry failure is a TransientError, not a bad record", async () => {
    const { deidentifier } = setup();
    const preparer = createReadingPreparer({
      registry: { get: async () => Promise.reject(new Error("socket hang up")) },
      deidentifier,
    });
    await expect(preparer.prepare(envelope(fanTopic, fanPayload))).rejects.toBeInstanceOf(TransientError);
  });

  it("the registry cache does not remember failures", async () => {
    const { deidentifier } = setup();
    let calls = 0;
    const preparer = createReadingPreparer({
      registry: { get: async () => (++calls === 1 ? Promise.reject(new Error("throttled")) : devices[2]) },
      deidentifier,
    });
    await expect(preparer.prepare(envelope(fanTopic, fanPayload))).rejects.toBeInstanceOf(TransientError);
    await expect(preparer.prepare(envelope(fanTopic, fanPayload))).resolves.toMatchObject({
      partitionKey: "ABC123456",
    });
  });

  it("a vault failure fails the record as transient (retry), after the registry confirmed the device", async () => {
    const { deidentifier, registry } = setup();
    const vault = { store: async () => Promise.reject(new TransientError("vault unavailable")) };
    const preparer = createReadingPreparer({ registry, deidentifier, vault });
    await expect(preparer.prepare(envelope(medicalTopic, medicalRecord))).rejects.toBeInstanceOf(
      TransientError,
    );
    // Records without PHI do not touch the vault.
    await expect(preparer.prepare(envelope(fanTopic, fanPayload))).resolves.toBeDefined();
  });
});
