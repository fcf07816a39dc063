import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/shared/errors.ts";
import {
  base64DecodedLength,
  decodePayload,
  findNonFiniteLiterals,
} from "../../src/telemetry/payload-decoder.ts";

const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return "ok";
  } catch (error) {
    return (error as ValidationError).code;
  }
};

describe("decodePayload", () => {
  it("parses a JSON object and reports its size", () => {
    expect(decodePayload(b64('{"a":1}'))).toEqual({ value: { a: 1 }, bytes: 7 });
    expect(decodePayload(b64('\uFEFF{"a":1}')).value).toEqual({ a: 1 });
  });

  it("classifies bad payloads", () => {
    expect(codeOf(() => decodePayload(""))).toBe("EMPTY_PAYLOAD");
    expect(codeOf(() => decodePayload(b64("   \n")))).toBe("EMPTY_PAYLOAD");
    expect(codeOf(() => decodePayload(b64(Buffer.from([0xc3, 0x28]))))).toBe("BINARY");
    expect(codeOf(() => decodePayload(b64("{\u0000}")))).toBe("BINARY");
    expect(codeOf(() => decodePayload(b64("{'a': 1}")))).toBe("INVALID_JSON");
    expect(codeOf(() => decodePayload(b64('"text"')))).toBe("NOT_AN_OBJECT");
    expect(codeOf(() => decodePayload(b64("null")))).toBe("NOT_AN_OBJECT");
    expect(codeOf(() => decodePayload(b64('{"a":NaN}')))).toBe("NON_FINITE_METRIC");
  });

  it("checks the size limit before decoding, at exactly 128 KB", () => {
    // Whitespace is JSON too: a small object padded to exactly 128 KiB (strings are limited on their own).
    const padded = `{"x":"a"${" ".repeat(128 * 1024 - 9)}}`;
    expect(Buffer.byteLength(padded)).toBe(128 * 1024);
    expect(codeOf(() => decodePayload(b64(padded)))).toBe("ok");
    expect(codeOf(() => decodePayload(b64(`${padded} `)))).toBe("PAYLOAD_TOO_LARGE");
  });

  it("never quotes the payload in its error messages", () => {
    try {
      decodePayload(b64('{"name": "Eugenia Gottlieb", '));
    } catch (error) {
      expect((error as Error).message).not.toContain("Eugenia");
    }
  });

  it("random bytes are either a JSON object or a ValidationError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const { value } = decodePayload(Buffer.from(bytes).toString("base64"));
          expect(typeof value).toBe("object");
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
    );
  });

  it("base64DecodedLength matches Buffer's decoding", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(base64DecodedLength(Buffer.from(bytes).toString("base64"))).toBe(bytes.length);
      }),
    );
  });
});

describe("findNonFiniteLiterals", () => {
  it("finds NaN/Infinity outside strings, with paths", () => {
    expect(findNonFiniteLiterals('{"a":NaN,"b":{"c":[1,-Infinity]},"d":"NaN"}')).toEqual(["a", "b.c[1]"]);
    expect(findNonFiniteLiterals('{"s":"Infinity \\" NaN"}')).toEqual([]);
    expect(findNonFiniteLiterals('{"a":NaN,')).toEqual([]);
  });
});
