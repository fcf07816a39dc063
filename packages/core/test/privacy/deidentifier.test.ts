import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createDeidentifier,
  defaultPhiCatalogue,
  phiCatalogueSchema,
} from "../../src/privacy/deidentifier.ts";
import { ConfigurationError } from "../../src/shared/errors.ts";
import { medicalRecord } from "../telemetry/seed-payloads.ts";

const key = Buffer.alloc(32, 1);

describe("createDeidentifier", () => {
  it("tokens are stable for a key, differ across keys and fields, and look like tok_…", () => {
    const a = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: key });
    const b = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: Buffer.from(key) });
    const other = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: Buffer.alloc(32, 2) });
    expect(a.tokenize("patient_id", "patient2605")).toBe(b.tokenize("patient_id", "patient2605"));
    expect(a.tokenize("patient_id", "patient2605")).not.toBe(other.tokenize("patient_id", "patient2605"));
    expect(a.tokenize("patient_id", "x")).not.toBe(a.tokenize("mrn", "x"));
    expect(a.tokenize("PATIENT_ID", "x")).toBe(a.tokenize("patient_id", "x"));
    expect(a.tokenize("patient_id", "patient2605")).toMatch(/^tok_[A-Za-z0-9_-]{22}$/);
  });

  it("no two distinct identifiers share a token (sampled)", () => {
    const d = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: key });
    fc.assert(
      fc.property(fc.string(), fc.string(), (x, y) => {
        fc.pre(x !== y);
        expect(d.tokenize("patient_id", x)).not.toBe(d.tokenize("patient_id", y));
      }),
    );
  });

  it("finds vaulted values and tokenized identifiers; the subject is the identifier's token", () => {
    const d = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: key });
    const found = d.deidentify(medicalRecord);
    expect(found.tokens).toEqual({ patient_id: d.tokenize("patient_id", "patient2605") });
    expect(found.phi.map((entry) => [entry.field, entry.value])).toEqual([
      ["name", "Eugenia Gottlieb"],
      ["dob", "08/27/1977"],
    ]);
    expect(found.subject).toBe(found.tokens.patient_id);
    expect(found.catalogued).toEqual(["patient_id", "name", "dob"]);
    // The value fingerprint is keyed and stable, and says nothing readable.
    expect(found.phi[0].mac).toBe(d.deidentify(medicalRecord).phi[0].mac);
    expect(found.phi[0].mac).not.toContain("Eugenia");
  });

  it("matches field names case-insensitively and handles non-string values", () => {
    const d = createDeidentifier({ catalogue: { vault: ["Name"], tokenize: ["MRN"] }, tokenKey: key });
    const found = d.deidentify({ NAME: { first: "A" }, mrn: 1234, other: 1 });
    expect(found.phi).toEqual([expect.objectContaining({ field: "NAME", value: '{"first":"A"}' })]);
    expect(found.tokens.mrn).toBe(d.tokenize("mrn", "1234"));
  });

  it("validates the catalogue and the key", () => {
    expect(phiCatalogueSchema.parse({})).toEqual(defaultPhiCatalogue);
    expect(() => phiCatalogueSchema.parse({ vault: ["x"], tokenize: ["X"] })).toThrow();
    expect(() => phiCatalogueSchema.parse({ vault: ["x"], extra: [] })).toThrow();
    expect(() => createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: Buffer.alloc(16) })).toThrow(
      ConfigurationError,
    );
  });

  it("strip removes vaulted fields everywhere and tokenizes identifiers", () => {
    const d = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: key });
    const { value, removed } = d.strip({
      list: [{ name: "A", keep: 1 }],
      patient_id: "p1",
      patient: { patient_id: { x: 1 } },
    });
    expect(value).toEqual({ list: [{ keep: 1 }], patient_id: d.tokenize("patient_id", "p1"), patient: {} });
    expect(removed).toEqual(["list[0].name", "patient_id", "patient.patient_id"]);
  });
});

describe("PHI catalogue matching: case, separators and near misses", () => {
  const d = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: key });

  it("matches catalogued names ignoring case and separators", () => {
    for (const field of ["name", "Name", "name ", " NAME", "n-a-m-e", "DoB_", "d.o.b", "DOB"])
      expect([field, d.classify(field), d.isNearMiss(field)]).toEqual([field, "vault", false]);
    for (const field of ["patient_id", "Patient-ID", "patientId", "PATIENTID"])
      expect([field, d.classify(field), d.isNearMiss(field)]).toEqual([field, "tokenize", false]);
    // The same patient tokens the same whatever the spelling of the field.
    expect(d.tokenize("Patient-ID", "p1")).toBe(d.tokenize("patient_id", "p1"));
  });

  it("flags near misses and treats them as the catalogued field they resemble", () => {
    for (const field of [
      "full_name",
      "patient_name",
      "fullName",
      "fullname",
      "nmae",
      "names",
      "dob_date",
      "birth_dob",
    ])
      expect([field, d.classify(field), d.isNearMiss(field)]).toEqual([field, "vault", true]);
    for (const field of ["patient_id_number", "patientIdNumber", "patient_idd"])
      expect([field, d.classify(field), d.isNearMiss(field)]).toEqual([field, "tokenize", true]);
  });

  it("leaves ordinary metric and field names alone", () => {
    for (const field of [
      "temperature",
      "pulse",
      "oxygen_percent",
      "systolic",
      "diastolic",
      "device_id",
      "deviceId",
      "timestamp",
      "FANID",
      "RPM",
      "pressure",
      "flow",
    ])
      expect([field, d.classify(field)]).toEqual([field, undefined]);
  });

  it("deidentify vaults near misses and reports them", () => {
    const found = d.deidentify({ full_name: "Eugenia Gottlieb", DoB_: "08/27/1977", pulse: 80 });
    expect(found.phi.map((entry) => entry.field).sort()).toEqual(["DoB_", "full_name"]);
    expect(found.nearMisses).toEqual(["full_name"]);
    const stripped = JSON.stringify(d.strip({ x: { "name ": "Eugenia Gottlieb", patientName: "Eugenia" } }));
    expect(stripped).not.toContain("Eugenia");
  });

  it("refuses a catalogue naming one field twice under two spellings", () => {
    expect(phiCatalogueSchema.safeParse({ vault: ["Patient-ID"], tokenize: ["patient_id"] }).success).toBe(
      false,
    );
  });
});
