import { describe, expect, it } from "vitest";
import { createDeidentifier, defaultPhiCatalogue } from "../../src/privacy/deidentifier.ts";
import { encodeEnvelope } from "../../src/telemetry/envelope.ts";
import { errorRecordSchema, toErrorRecord } from "../../src/telemetry/error-record.ts";
import { InvalidEnvelopeError, SchemaValidationError } from "../../src/telemetry/ingest-errors.ts";
import { expectNoPhiIn, medicalRecord, medicalTopic, testTokenKey } from "./seed-payloads.ts";

const env = encodeEnvelope(
  medicalTopic,
  JSON.stringify({ ...medicalRecord, nested: { patient: { name: "Eugenia Gottlieb", dob: "08/27/1977" } } }),
  Date.UTC(2024, 0, 1),
);
const schemaError = new SchemaValidationError("medical payload is invalid: pulse", [
  { path: "pulse", message: "expected number" },
]);

describe("toErrorRecord", () => {
  it("strips catalogued fields at any depth and keeps identifiers as tokens", () => {
    const deidentifier = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: testTokenKey });
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
      reason: "medical payload is invalid: pulse",
      topic: medicalTopic,
      source: "medical",
      receivedAt: "2024-01-01T00:00:00.000Z",
      rejectedAt: "2024-01-01T00:00:05.000Z",
    });
    expect(record.payload?.patient_id).toBe(deidentifier.tokenize("patient_id", "patient2605"));
    expect(record.payload?.pulse).toBe(108.6);
    expect(record.strippedFields.sort()).toEqual(
      ["dob", "name", "nested.patient.dob", "nested.patient.name", "patient_id"].sort(),
    );
    expect(record.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(expectNoPhiIn(JSON.stringify(record))).toEqual([]);
  });

  it("without a deidentifier, removes identifiers too", () => {
    const record = toErrorRecord(env, schemaError, "r-1");
    expect(record.payload).not.toHaveProperty("patient_id");
    expect(expectNoPhiIn(JSON.stringify(record))).toEqual([]);
  });

  it("honours a custom catalogue", () => {
    const record = toErrorRecord(env, schemaError, "r-1", { catalogue: { vault: ["pulse"], tokenize: [] } });
    expect(record.payload).not.toHaveProperty("pulse");
    expect(record.payload).toHaveProperty("name");
  });

  it("keeps only size and hash of payloads that do not parse", () => {
    const bad = encodeEnvelope(medicalTopic, '{"name":"Eugenia Gottlieb",', 1);
    const record = toErrorRecord(bad, new Error('Unexpected token in "Eugenia Gottlieb"'), "r-2");
    expect(record.code).toBe("INTERNAL_ERROR");
    expect(record.payload).toBeUndefined();
    expect(record.payloadBytes).toBe(27);
    expect(expectNoPhiIn(JSON.stringify(record))).toEqual([]);
  });

  it("records a record that held no envelope by its raw size and hash", () => {
    const data = Buffer.from("garbage");
    const record = toErrorRecord(undefined, new InvalidEnvelopeError("not an envelope"), "r-3", { data });
    expect(record).toMatchObject({ code: "INVALID_ENVELOPE", payloadBytes: 7 });
    expect(record.topic).toBeUndefined();
  });
});
