import { readFileSync } from "node:fs";
import path from "node:path";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";
import { errorRecordSchema } from "@driftwatch/core/telemetry/error-record";
import { encodeEnvelope } from "@driftwatch/core/telemetry/envelope";
import { readingSchema } from "@driftwatch/core/telemetry/reading";
import {
  createAwsTransformDeps,
  createTransformHandler,
  handler,
  transformRecords,
} from "../../src/firehose/transform.ts";
import { configureObservability } from "../../src/shared/observability.ts";
import { inMemoryDeps, lambdaContext, phiValues } from "../support/in-memory-deps.ts";

const fixtures = path.join(import.meta.dirname, "..", "fixtures");
const loadEvent = (name: string): FirehoseTransformationEvent =>
  JSON.parse(readFileSync(path.join(fixtures, name), "utf8"));
const labels: string[] = JSON.parse(
  readFileSync(path.join(fixtures, "firehose-ingest-mixed.labels.json"), "utf8"),
);
const decode = (data: string | undefined) => Buffer.from(data ?? "", "base64").toString("utf8");

let lines: string[] = [];
beforeEach(() => {
  lines = [];
  configureObservability({ logSink: (line) => lines.push(line), logLevel: "DEBUG", metrics: "sink" });
});
afterEach(() => configureObservability({ logSink: undefined, logLevel: "INFO", metrics: "stdout" }));

describe("Firehose transformation handler", () => {
  it("answers every record of a real-shaped event, in order, with Firehose's response shape", async () => {
    const event = loadEvent("firehose-ingest-mixed.json");
    const { deps } = inMemoryDeps();
    const result = (await createTransformHandler(async () => deps)(
      event,
      lambdaContext,
    )) as FirehoseTransformationResult;

    expect(result.records.map((record) => record.recordId)).toEqual(
      event.records.map((record) => record.recordId),
    );
    const byLabel = Object.fromEntries(labels.map((label, i) => [label, result.records[i]]));
    for (const label of ["medical", "weather", "fan", "canonical"]) {
      expect(byLabel[label].result, label).toBe("Ok");
      expect(byLabel[label].metadata?.partitionKeys).toEqual({
        zone: "readings",
        date: "2024-03-01",
        hour: "12",
      });
      const data = decode(byLabel[label].data);
      expect(data.endsWith("\n")).toBe(true);
      expect(data.slice(0, -1)).not.toContain("\n");
      readingSchema.parse(JSON.parse(data));
    }
    expect(JSON.parse(decode(byLabel.medical.data))).toMatchObject({
      deviceId: "device8401",
      source: "medical",
      manufacturer: "Manufacturer 09",
    });
    expect(byLabel["duplicate of medical"]).toMatchObject({
      result: "Dropped",
      metadata: { partitionKeys: { zone: "readings" } },
    });

    const expectedCodes: Record<string, string> = {
      "malformed JSON": "INVALID_JSON",
      "wrong types": "SCHEMA_INVALID",
      "missing device id": "MISSING_DEVICE_ID",
      "non-finite": "NON_FINITE_METRIC",
      "unknown device": "UNKNOWN_DEVICE",
      "unknown topic": "UNKNOWN_TOPIC",
      "binary garbage": "BINARY",
      "not an envelope": "INVALID_ENVELOPE",
    };
    for (const [label, code] of Object.entries(expectedCodes)) {
      const record = byLabel[label];
      expect(record.result, label).toBe("Ok");
      expect(record.metadata?.partitionKeys.zone, label).toBe("errors");
      const errorRecord = errorRecordSchema.parse(JSON.parse(decode(record.data)));
      expect(errorRecord.code, label).toBe(code);
      expect(errorRecord.recordId).toBe(record.recordId);
    }
    // Never ProcessingFailed: Firehose would write the raw record (PHI) to its error output.
    expect(result.records.some((record) => record.result === "ProcessingFailed")).toBe(false);
  });

  it("no PHI value in any output record or log line, only tokens", async () => {
    const event = loadEvent("firehose-ingest-mixed.json");
    const { deps, deidentifier } = inMemoryDeps();
    const result = (await createTransformHandler(async () => deps)(
      event,
      lambdaContext,
    )) as FirehoseTransformationResult;
    const output = result.records
      .filter((record) => record.result === "Ok")
      .map((record) => decode(record.data))
      .join("");
    const logs = lines.join("\n");
    for (const value of phiValues) {
      expect(output, value).not.toContain(value);
      expect(logs, value).not.toContain(value);
    }
    expect(output).toContain(deidentifier.tokenize("patient_id", "patient2605"));
    expect(logs).toContain('"message":"transformed batch"');
  });

  it("vaults the PHI once per patient, encrypted", async () => {
    const event = loadEvent("firehose-ingest-mixed.json");
    const { deps, store, vault, deidentifier } = inMemoryDeps();
    await createTransformHandler(async () => deps)(event, lambdaContext);
    await createTransformHandler(async () => deps)(event, lambdaContext); // Firehose retry of the same batch
    const token = deidentifier.tokenize("patient_id", "patient2605");
    expect([...store.records.keys()].sort()).toEqual([`${token}\u0000dob`, `${token}\u0000name`]);
    expect(store.writes).toBe(2);
    expect(await vault.reveal(token, "name")).toBe("Eugenia Gottlieb");
  });

  it("emits metrics per outcome and per rejection code", async () => {
    const event = loadEvent("firehose-ingest-mixed.json");
    const { deps } = inMemoryDeps();
    await createTransformHandler(async () => deps)(event, lambdaContext);
    const emf = lines.map((line) => JSON.parse(line)).filter((line) => line._aws !== undefined);
    const batch = emf.find((line) => line.RecordsIn !== undefined);
    expect(batch).toMatchObject({
      RecordsIn: 13,
      RecordsOk: 4,
      RecordsRejected: 8,
      RecordsDropped: 1,
      PhiValuesVaulted: 2,
    });
    const byCode = emf
      .filter((line) => line.RecordsRejectedByCode !== undefined)
      .map((line) => [line.code, line.RecordsRejectedByCode]);
    expect(byCode).toContainEqual(["UNKNOWN_DEVICE", 1]);
    expect(byCode).toHaveLength(8);
  });

  it("AWS's own sample event (not an envelope) becomes one error record", async () => {
    const { deps } = inMemoryDeps();
    const result = (await createTransformHandler(async () => deps)(
      loadEvent("aws-sample-event.json"),
      lambdaContext,
    )) as FirehoseTransformationResult;
    expect(result.records).toHaveLength(1);
    expect(result.records[0]).toMatchObject({
      result: "Ok",
      metadata: { partitionKeys: { zone: "errors", date: "2017-05-18", hour: "02" } },
    });
    expect(JSON.parse(decode(result.records[0].data))).toMatchObject({
      code: "INVALID_ENVELOPE",
      payloadBytes: 26,
    });
  });

  it("a payload over 128 KB is an error record, without its payload", async () => {
    const { deps } = inMemoryDeps();
    const payload = JSON.stringify({ name: "Eugenia Gottlieb", text: "x".repeat(130 * 1024) });
    const big = encodeEnvelope("LifeSupportDevice/Sensor", payload, 1);
    const event = { ...loadEvent("aws-sample-event.json") };
    event.records = [
      {
        recordId: "big",
        approximateArrivalTimestamp: 1,
        data: Buffer.from(JSON.stringify(big)).toString("base64"),
      },
    ];
    const { result } = await transformRecords(event, deps);
    const record = JSON.parse(decode(result.records[0].data));
    expect(record).toMatchObject({ code: "PAYLOAD_TOO_LARGE", payloadBytes: Buffer.byteLength(payload) });
    expect(JSON.stringify(record)).not.toContain("Eugenia");
  });

  it("a transient dependency failure fails the whole invocation (Firehose retries it)", async () => {
    const { deps: healthy } = inMemoryDeps();
    const { deps } = inMemoryDeps({
      registry: { get: async () => Promise.reject(new Error("ProvisionedThroughputExceededException")) },
    });
    const event = loadEvent("firehose-ingest-mixed.json");
    await expect(createTransformHandler(async () => deps)(event, lambdaContext)).rejects.toBeInstanceOf(
      TransientError,
    );
    expect(lines.join("\n")).toContain("TransformInvocationFailed");
    // The same event succeeds once the dependency is back.
    await expect(createTransformHandler(async () => healthy)(event, lambdaContext)).resolves.toBeDefined();
  });

  it("an unexpected bug on one record yields an INTERNAL_ERROR record and leaves the others alone", async () => {
    const { deps } = inMemoryDeps();
    const preparer = {
      prepare: async (envelope: Parameters<typeof deps.preparer.prepare>[0]) => {
        if (envelope.topic.startsWith("weather/"))
          throw new TypeError("Cannot read properties of undefined (reading 'Eugenia Gottlieb')");
        return deps.preparer.prepare(envelope);
      },
    };
    const { result, summary } = await transformRecords(loadEvent("firehose-ingest-mixed.json"), {
      ...deps,
      preparer,
    });
    const weather = JSON.parse(decode(result.records[labels.indexOf("weather")].data));
    expect(weather).toMatchObject({ code: "INTERNAL_ERROR", error: "TypeError" });
    expect(JSON.stringify(weather)).not.toContain("Eugenia");
    expect(summary).toMatchObject({ readings: 3, rejected: 9, dropped: 1 });
  });

  it("a poison batch: 40,000-deep arrays, huge strings, PHI in unexpected places, RangeError — the valid records land", async () => {
    const { deps } = inMemoryDeps();
    const medical = {
      timestamp: "2018-01-27T05:11:50",
      device_id: "device8401",
      patient_id: "patient2605",
      temperature: 100.3,
      pulse: 108.6,
      oxygen_percent: 48.4,
      systolic: 110.2,
      diastolic: 75.6,
    };
    const now = Date.UTC(2024, 2, 1, 12);
    const valid = (i: number) =>
      encodeEnvelope(
        "dt/plant-7/pump-1/telemetry",
        JSON.stringify({ deviceId: "pump-1", ts: "2024-03-01T12:00:00Z", metrics: { flow: i } }),
        now,
        `valid-${i}`,
      );
    const poison = [
      encodeEnvelope(
        "LifeSupportDevice/Sensor",
        `{"device_id":"device8401","x":${"[".repeat(40_000)}${"]".repeat(40_000)}}`,
        now,
        "p1",
      ),
      encodeEnvelope(
        "LifeSupportDevice/Sensor",
        JSON.stringify({ ...medical, notes: "x".repeat(5000) }),
        now,
        "p2",
      ),
      encodeEnvelope(
        "LifeSupportDevice/Sensor",
        JSON.stringify({
          ...medical,
          pulse: "fast",
          "name ": "Eugenia Gottlieb",
          full_name: "Eugenia Gottlieb",
          DoB_: "08/27/1977",
          notes: "patient Eugenia Gottlieb born 08/27/1977",
        }),
        now,
        "p3",
      ),
      encodeEnvelope(
        "dt/site/Eugenia Gottlieb/telemetry",
        JSON.stringify({ deviceId: "Eugenia Gottlieb", ts: 1, metrics: { a: 1 } }),
        now,
        "p4",
      ),
      encodeEnvelope(
        "dt/plant-7/pump-1/telemetry",
        JSON.stringify({ deviceId: "pump-1", ts: "2024-03-01T12:00:00Z", metrics: { name: 1 } }),
        now,
        "p5",
      ),
      encodeEnvelope(
        "dt/plant-7/pump-1/telemetry",
        JSON.stringify({ deviceId: "pump-1", ts: "2024-03-01T12:00:00Z", metrics: { flow: 1 }, crash: true }),
        now,
        "p6",
      ),
    ];
    const envelopes = [valid(1), ...poison.flatMap((p, i) => [p, valid(i + 2)])];
    const event: FirehoseTransformationEvent = {
      invocationId: "poison",
      deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/ingest",
      region: "us-east-1",
      records: envelopes.map((envelope, i) => ({
        recordId: `r${i}`,
        approximateArrivalTimestamp: now,
        data: Buffer.from(JSON.stringify(envelope)).toString("base64"),
      })),
    };
    const preparer = {
      prepare: async (envelope: Parameters<typeof deps.preparer.prepare>[0]) => {
        if (envelope.messageId === "p6") throw new RangeError("Maximum call stack size exceeded");
        return deps.preparer.prepare(envelope);
      },
    };
    const { result, summary } = await transformRecords(event, { ...deps, preparer });
    expect(result.records.map((r) => r.result)).toEqual(envelopes.map(() => "Ok"));
    const zones = result.records.map((r) => r.metadata?.partitionKeys.zone);
    expect(zones).toEqual(envelopes.map((e) => (e.messageId?.startsWith("valid") ? "readings" : "errors")));
    expect(summary).toMatchObject({ readings: 7, rejected: 6 });
    const codes = result.records
      .filter((r) => r.metadata?.partitionKeys.zone === "errors")
      .map((r) => errorRecordSchema.parse(JSON.parse(decode(r.data))).code);
    expect(codes).toEqual([
      "NESTING_TOO_DEEP",
      "STRING_TOO_LONG",
      "SCHEMA_INVALID",
      "SCHEMA_INVALID", // a device id with a space in it (here: a name) is not a device id
      "NO_METRICS",
      "INTERNAL_ERROR",
    ]);
    const output = result.records.map((r) => decode(r.data)).join("");
    for (const value of phiValues) expect(output, value).not.toContain(value);
    expect(output).not.toContain("device8401");
  });

  it("keeps byte-identical records when duplicate dropping is off", async () => {
    const { deps } = inMemoryDeps();
    const { summary } = await transformRecords(loadEvent("firehose-ingest-mixed.json"), {
      ...deps,
      dropDuplicates: false,
    });
    expect(summary).toMatchObject({ readings: 5, dropped: 0 });
  });

  it("builds its dependencies once and retries a failed build on the next invocation", async () => {
    const { deps } = inMemoryDeps();
    let builds = 0;
    const { lazy } = await import("../../src/shared/config.ts");
    const wrapped = createTransformHandler(
      lazy(async () => {
        builds++;
        if (builds === 1) throw new TransientError("KMS unavailable");
        return deps;
      }),
    );
    const event = loadEvent("aws-sample-event.json");
    await expect(wrapped(event, lambdaContext)).rejects.toBeInstanceOf(TransientError);
    await wrapped(event, lambdaContext);
    await wrapped(event, lambdaContext);
    expect(builds).toBe(2);
  });

  it("the AWS handler reports every missing variable at once, without touching AWS", async () => {
    await expect(createAwsTransformDeps({})).rejects.toThrow(ConfigurationError);
    await expect(createAwsTransformDeps({})).rejects.toThrow(
      /TOKEN_KEY_ID is not set; VAULT_KEY_ID is not set; VAULT_TABLE is not set; DEVICES_TABLE is not set/,
    );
    await expect(
      createAwsTransformDeps({
        PHI_CATALOGUE: "{bad",
        TOKEN_KEY_ID: "k",
        VAULT_KEY_ID: "k",
        VAULT_TABLE: "t",
        DEVICES_TABLE: "d",
      }),
    ).rejects.toThrow(/PHI_CATALOGUE: is not valid JSON/);
    expect(typeof handler).toBe("function");
  });
});
