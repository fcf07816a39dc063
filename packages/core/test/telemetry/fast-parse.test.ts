import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { createDeidentifier, defaultPhiCatalogue } from "../../src/privacy/deidentifier.ts";
import { eventTimeMs, parseEventTime } from "../../src/telemetry/event-time.ts";
import { readingIdOf } from "../../src/telemetry/prepare.ts";
import { canonicalPayloadSchema, fastCanonicalPayload } from "../../src/telemetry/sources/canonical.ts";
import { fanPayloadSchema, fastFanPayload } from "../../src/telemetry/sources/fan.ts";
import { fastMedicalPayload, medicalPayloadSchema } from "../../src/telemetry/sources/medical.ts";
import type { FastParse } from "../../src/telemetry/sources/payload-source.ts";
import { fastWeatherPayload, weatherPayloadSchema } from "../../src/telemetry/sources/weather.ts";
import {
  canonicalPayload,
  fanPayload,
  medicalRecord,
  testTokenKey,
  weatherPayload,
} from "./seed-payloads.ts";

/**
 * ADR 0204: each payload shape has a zod-free check for well-formed payloads. It must return exactly what the zod
 * schema returns, and never accept what the schema rejects (zod stays the source of every error).
 */
const shapes: {
  name: string;
  schema: z.ZodTypeAny;
  fast: FastParse<unknown>;
  valid: Record<string, unknown>;
}[] = [
  { name: "canonical", schema: canonicalPayloadSchema, fast: fastCanonicalPayload, valid: canonicalPayload },
  { name: "medical", schema: medicalPayloadSchema, fast: fastMedicalPayload, valid: medicalRecord },
  { name: "fan", schema: fanPayloadSchema, fast: fastFanPayload, valid: fanPayload },
  { name: "weather", schema: weatherPayloadSchema, fast: fastWeatherPayload, valid: weatherPayload },
];

const times = [
  1709294400000,
  1709294400000.5,
  1472611226,
  "1709294400000",
  "2024-03-01T12:00:00Z",
  "2024-03-01T12:00:00.123456",
  "2024-03-01T12:00:00+01:00",
  "2021-02-30T00:00:00Z",
  "yesterday",
  0,
  -1,
];
const metricNames = [
  "flow",
  "pressure",
  "_x",
  "a:b-c.d",
  "1",
  "a b",
  "",
  ".x",
  "__proto__",
  "x".repeat(65),
  "name",
];

/** Anything a JSON payload field can hold, with the edge cases of each check. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    true,
    false,
    "",
    "x",
    "\u0001",
    "x".repeat(129),
    "x".repeat(128),
    -1,
    0,
    1,
    2,
  ),
  fc.constantFrom(-0, 0.5, -1.5, 1e300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.constantFrom(...times),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom(...metricNames), fc.oneof(fc.double(), fc.string({ maxLength: 2 })), {
    maxKeys: 3,
  }),
);

const metricsValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: anyValue, weight: 1 },
  {
    // Mostly good names and numbers (fc.double includes NaN, -0 and the infinities), sometimes not.
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(
            { arbitrary: fc.constantFrom("flow", "pressure", "_x", "a:b-c.d", "1", "T"), weight: 8 },
            { arbitrary: fc.constantFrom(...metricNames), weight: 1 },
            { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
          ),
          fc.oneof({ arbitrary: fc.double(), weight: 8 }, { arbitrary: anyValue, weight: 1 }),
        ),
        { maxLength: 6 },
      )
      .map((entries) => Object.fromEntries(entries)),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 60, max: 70 }).map(manyMetrics), weight: 1 },
);

function manyMetrics(n: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i]));
}

/** A payload like `valid`, each field kept, dropped or replaced, plus extra fields. */
function variants(valid: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.keys(valid);
  return fc
    .tuple(
      // Mostly kept, so that one bad field among good ones is common.
      fc.array(
        fc.oneof(
          { arbitrary: fc.constant("keep"), weight: 6 },
          { arbitrary: fc.constant("drop"), weight: 1 },
          { arbitrary: fc.constant("replace"), weight: 2 },
        ),
        {
          minLength: fields.length,
          maxLength: fields.length,
        },
      ),
      fc.array(fc.oneof(anyValue, metricsValue), { minLength: fields.length, maxLength: fields.length }),
      fc.dictionary(fc.constantFrom("extra", "smoothed", "direction", "patient_id"), anyValue, {
        maxKeys: 2,
      }),
    )
    .map(([ops, values, extra]) => {
      const out: Record<string, unknown> = { ...extra };
      fields.forEach((field, i) => {
        if (ops[i] === "keep") out[field] = valid[field];
        else if (ops[i] === "replace") out[field] = values[i];
      });
      return out;
    });
}

function expectSameAsZod(schema: z.ZodTypeAny, fast: FastParse<unknown>, payload: Record<string, unknown>) {
  const quick = fast(payload);
  if (quick === undefined) return false;
  const result = schema.safeParse(payload);
  expect(result.success).toBe(true);
  expect(quick).toEqual(result.data);
  const metrics = (result.data as { metrics?: object }).metrics;
  if (metrics !== undefined)
    expect(Object.keys((quick as { metrics: object }).metrics)).toEqual(Object.keys(metrics));
  return true;
}

describe("fast payload checks agree with the zod schemas", () => {
  it.each(shapes)(
    "$name: the seed's payload takes the fast path with zod's output",
    ({ schema, fast, valid }) => {
      expect(expectSameAsZod(schema, fast, valid)).toBe(true);
      expect(
        expectSameAsZod(schema, fast, JSON.parse(JSON.stringify(valid)) as Record<string, unknown>),
      ).toBe(true);
    },
  );

  it.each(shapes)(
    "$name: never accepts what zod rejects, and returns zod's output (sampled)",
    ({ schema, fast, valid }) => {
      let accepted = 0;
      fc.assert(
        fc.property(variants(valid), (payload) => {
          if (expectSameAsZod(schema, fast, payload)) accepted++;
          // The same payload as it arrives: through JSON (`__proto__` becomes an own key, NaN becomes null).
          const text = JSON.stringify(payload);
          if (text !== undefined) expectSameAsZod(schema, fast, JSON.parse(text) as Record<string, unknown>);
        }),
        { numRuns: 3000, seed: 14 },
      );
      expect(accepted).toBeGreaterThan(0);
    },
  );

  it("canonical: a `__proto__` metric, a null-prototype object, too many or no metrics are left to zod", () => {
    const base = { deviceId: "pump-1", ts: 1709294400000 };
    const proto = JSON.parse(
      '{"deviceId":"pump-1","ts":1709294400000,"metrics":{"__proto__":1,"a":2}}',
    ) as Record<string, unknown>;
    expect(fastCanonicalPayload(proto)).toBeUndefined();
    expect(canonicalPayloadSchema.parse(proto).metrics).toEqual({ a: 2 });
    const bare = Object.assign(Object.create(null) as Record<string, number>, { a: 1 });
    expect(fastCanonicalPayload({ ...base, metrics: bare })).toBeUndefined();
    expect(fastCanonicalPayload({ ...base, metrics: {} })).toBeUndefined();
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i]));
    expect(fastCanonicalPayload({ ...base, metrics: many })).toBeUndefined();
    expect(canonicalPayloadSchema.safeParse({ ...base, metrics: many }).success).toBe(false);
  });
});

describe("eventTimeMs", () => {
  it("is parseEventTime's ms, or undefined when that has a reason", () => {
    for (const value of [...times, undefined, null, true, [], {}, Number.NaN, "", "1".repeat(17)]) {
      const full = parseEventTime(value);
      expect(eventTimeMs(value)).toBe(full.ok ? full.ms : undefined);
    }
  });
});

describe("readingIdOf", () => {
  it("is the keyed token of (topic, payload) with the rd_ prefix, unchanged by the memo bypass", () => {
    const deidentifier = createDeidentifier({ catalogue: defaultPhiCatalogue, tokenKey: testTokenKey });
    const envelope = { topic: "dt/plant-7/pump-1/telemetry", payload: "eyJhIjoxfQ==" };
    const id = readingIdOf(deidentifier, envelope);
    expect(id).toBe(
      `rd_${deidentifier.tokenize("readingId", `${envelope.topic}\u0000${envelope.payload}`).slice(4)}`,
    );
    // Pinned: the identity persisted in window state and archives must not change with the implementation.
    expect(id).toBe(PINNED_READING_ID);
    expect(deidentifier.tokenizeOnce("patient_id", "p1")).toBe(deidentifier.tokenize("patient_id", "p1"));
  });
});

// Computed with the implementation before ADR 0204 (memoized `tokenize`, then `replace(/^tok_/, "rd_")`).
const PINNED_READING_ID = "rd_EjcYRL1FmY5moigOVopkHr";
