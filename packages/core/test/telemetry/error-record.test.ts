import { describe, expect, it } from "vitest";
import { createDeidentifier, defaultPhiCatalogue } from "../../src/privacy/deidentifier.ts";
import { encodeEnvelope } from "../../src/telemetry/envelope.ts";
import { errorRecordSchema, toErrorRecord, topicPattern } from "../../src/telemetry/error-record.ts";
import {
  InvalidEnvelopeError,
  SchemaValidationError,
  UnknownDeviceError,
} from "../../src/telemetry/ingest-errors.ts";
import { expectNoPhiIn, medicalRecord, medicalTopic, testTokenKey } from "./seed-payloads.ts";

const env = encodeEnvelope(
  medicalTopic,
  JSON.stringify({
    ...medicalRecord,
    nested: { patient: { name: "Eugenia Gottlieb", dob: "08/27/1977" } },
    notes: "patient Eugenia Gottlieb born 08/27/1977",
    "name ": "Eugenia Gottlieb",
    full_name: "Eugenia Gottlieb",
    DoB_: "08/27/1977",
  }),
  Date.UTC(2024, 0, 1),
);
const schemaError = new SchemaValidationError("medical payload is invalid: pulse", [
  { path: "pulse", message: "expected number" },
]);
const deidentifier = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: testTokenKey });

describe("toErrorRecord", () => {
  it("keeps code, reason, paths and types, never a value; flags catalogued and near-miss fields", () => {
    const record = toErrorRecord(env, schemaError, "r-1", {
      deidentifier,
      now: Date.UTC(2024, 0, 1, 0, 0, 5),
    });
    expect(errorRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      kind: "error",
      recordId: "r-1",
      code: "SCHEMA_INVALID",
      error: "SchemaValidationError",
      stage: "transform",
      reason: "medical payload is invalid: pulse",
      topicPattern: medicalTopic,
      source: "medical",
      receivedAt: "2024-01-01T00:00:00.000Z",
      rejectedAt: "2024-01-01T00:00:05.000Z",
      deviceToken: deidentifier.tokenize("deviceId", "device8401"),
    });
    expect(record.fields).toContainEqual({ path: "pulse", type: "number" });
    expect(record.fields).toContainEqual({ path: "notes", type: "string" });
    expect(record.fields).toContainEqual({ path: "nested.patient.name", type: "string" });
    expect(record.strippedFields.sort()).toEqual(
      [
        "*",
        "DoB_",
        "dob",
        "full_name",
        "name",
        "nested.patient.dob",
        "nested.patient.name",
        "patient_id",
      ].sort(),
    );
    expect(record.nearMissFields).toEqual(["full_name"]);
    expect(record.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify(record);
    expect(expectNoPhiIn(text)).toEqual([]);
    expect(text).not.toContain("device8401");
    expect(text).not.toContain("108.6");
  });

  it("hides every variable topic level and the device id of an unknown device", () => {
    expect(topicPattern("dt/plant-7/pump-1/telemetry")).toBe("dt/+/+/telemetry");
    expect(topicPattern("patients/Eugenia Gottlieb/vitals")).toBe("+/+/+");
    const topic = "dt/site/Eugenia Gottlieb/telemetry";
    const record = toErrorRecord(
      encodeEnvelope(topic, "{}", 1),
      new UnknownDeviceError("Eugenia Gottlieb"),
      "r-4",
      { deidentifier },
    );
    expect(record.topicPattern).toBe("dt/+/+/telemetry");
    expect(record.topicToken).toBe(deidentifier.tokenize("topic", topic));
    expect(record.deviceToken).toMatch(/^tok_/);
    expect(expectNoPhiIn(JSON.stringify(record))).toEqual([]);
  });

  it("without a deidentifier, leaves tokens out and still flags PHI paths with the default catalogue", () => {
    const record = toErrorRecord(env, schemaError, "r-1");
    expect(record.deviceToken).toBeUndefined();
    expect(record.topicToken).toBeUndefined();
    expect(record.strippedFields).toContain("patient_id");
    expect(expectNoPhiIn(JSON.stringify(record))).toEqual([]);
  });

  it("honours a custom catalogue", () => {
    const record = toErrorRecord(env, schemaError, "r-1", { catalogue: { vault: ["pulse"], tokenize: [] } });
    expect(record.strippedFields).toContain("pulse");
    expect(record.strippedFields).not.toContain("name");
  });

  it("keeps only size and hash of payloads that do not parse, and of payloads beyond the limits", () => {
    const bad = encodeEnvelope(medicalTopic, '{"name":"Eugenia Gottlieb",', 1);
    const record = toErrorRecord(bad, new Error('Unexpected token in "Eugenia Gottlieb"'), "r-2");
    expect(record.code).toBe("INTERNAL_ERROR");
    expect(record.fields).toEqual([]);
    expect(record.payloadBytes).toBe(27);
    expect(expectNoPhiIn(JSON.stringify(record))).toEqual([]);

    const deep = encodeEnvelope(medicalTopic, `${"[".repeat(40_000)}${"]".repeat(40_000)}`, 1);
    const deepRecord = toErrorRecord(deep, new Error("boom"), "r-5");
    expect(deepRecord.fields).toEqual([]);
    expect(deepRecord.payloadBytes).toBe(80_000);
  });

  it("records a record that held no envelope by its raw size and hash", () => {
    const data = Buffer.from("garbage");
    const record = toErrorRecord(undefined, new InvalidEnvelopeError("not an envelope"), "r-3", { data });
    expect(record).toMatchObject({ code: "INVALID_ENVELOPE", payloadBytes: 7 });
    expect(record.topicPattern).toBeUndefined();
  });
});
