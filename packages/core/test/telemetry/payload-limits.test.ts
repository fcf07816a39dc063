import { describe, expect, it } from "vitest";
import { decodePayload } from "../../src/telemetry/payload-decoder.ts";
import {
  checkJsonLimits,
  checkMetricCount,
  defaultPayloadLimits,
} from "../../src/telemetry/payload-limits.ts";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).name;
  }
};

describe("payload limits: one named code per limit, checked without recursion", () => {
  it("bytes: PAYLOAD_TOO_LARGE over 128 KiB, before decoding", () => {
    const big = `{"a":"${"x".repeat(130 * 1024)}"}`;
    expect(codeOf(() => decodePayload(b64(big)))).toBe("PAYLOAD_TOO_LARGE");
  });

  it("depth: a 40,000-deep nested array is NESTING_TOO_DEEP, not a stack overflow", () => {
    const deep = `{"a":${"[".repeat(40_000)}${"]".repeat(40_000)}}`;
    expect(codeOf(() => decodePayload(b64(deep)))).toBe("NESTING_TOO_DEEP");
    const unclosed = `{"a":${"[{".repeat(20_000)}`;
    expect(codeOf(() => decodePayload(b64(unclosed)))).toBe("NESTING_TOO_DEEP");
    const ok = `${"[".repeat(defaultPayloadLimits.maxDepth - 1).replace(/^/, '{"a":')}${"]".repeat(defaultPayloadLimits.maxDepth - 1)}}`;
    expect(codeOf(() => decodePayload(b64(ok)))).toBe("ok");
  });

  it("brackets inside strings do not count as nesting", () => {
    expect(codeOf(() => decodePayload(b64(`{"a":"${"[".repeat(1000)}\\"{"}`)))).toBe("ok");
  });

  it("keys: TOO_MANY_KEYS over 1,024 fields in the whole payload", () => {
    const fields = Array.from({ length: 1025 }, (_, i) => `"k${i}":1`).join(",");
    expect(codeOf(() => decodePayload(b64(`{${fields}}`)))).toBe("TOO_MANY_KEYS");
    const fewer = Array.from({ length: 1024 }, (_, i) => `"k${i}":1`).join(",");
    expect(codeOf(() => decodePayload(b64(`{${fewer}}`)))).toBe("ok");
  });

  it("strings: STRING_TOO_LONG for a value, KEY_TOO_LONG for a field name", () => {
    expect(codeOf(() => decodePayload(b64(`{"a":"${"x".repeat(4097)}"}`)))).toBe("STRING_TOO_LONG");
    expect(codeOf(() => decodePayload(b64(`{"a":"${"x".repeat(4096)}"}`)))).toBe("ok");
    expect(codeOf(() => decodePayload(b64(`{"${"k".repeat(129)}":1}`)))).toBe("KEY_TOO_LONG");
    // Escapes do not end a string early.
    expect(codeOf(() => decodePayload(b64(`{"a":"${'\\"'.repeat(2100)}"}`)))).toBe("STRING_TOO_LONG");
  });

  it("metrics per reading: TOO_MANY_METRICS over 256", () => {
    const metrics = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`m${i}`, i]));
    expect(codeOf(() => checkMetricCount(metrics))).toBe("TOO_MANY_METRICS");
    expect(codeOf(() => checkMetricCount({ a: 1 }))).toBe("ok");
  });

  it("limits are configurable, and messages never quote the payload", () => {
    expect(codeOf(() => checkJsonLimits('{"a":[[1]]}', { ...defaultPayloadLimits, maxDepth: 2 }))).toBe(
      "NESTING_TOO_DEEP",
    );
    try {
      decodePayload(b64(`{"Eugenia Gottlieb":"${"x".repeat(5000)}"}`));
    } catch (error) {
      expect((error as Error).message).not.toContain("Eugenia");
    }
  });
});

describe("metric magnitude: METRIC_OUT_OF_RANGE (keeps window aggregates finite)", () => {
  it("refuses ±1e200, whose variance would overflow to Infinity", async () => {
    const { checkMetricValues } = await import("../../src/telemetry/payload-limits.ts");
    expect(codeOf(() => checkMetricValues({ a: 1e200 }))).toBe("METRIC_OUT_OF_RANGE");
    expect(codeOf(() => checkMetricValues({ a: -1e16 }))).toBe("METRIC_OUT_OF_RANGE");
    expect(codeOf(() => checkMetricValues({ a: 1e15, b: -3 }))).toBe("ok");
  });
});
