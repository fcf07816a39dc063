import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { flag, json, lazy, positiveInt, readConfig, required, seconds } from "../../src/shared/config.ts";
import { readPhiCatalogue } from "../../src/shared/privacy.ts";

describe("readConfig", () => {
  const shape = {
    TABLE: required(),
    TTL: seconds(30),
    N: positiveInt(4),
    ON: flag(false),
    LIST: json(z.array(z.string()), ["a"]),
  };

  it("applies defaults and coerces", () => {
    expect(readConfig(shape, { TABLE: "t", TTL: "2.5", ON: "true", LIST: '["x","y"]' })).toEqual({
      TABLE: "t",
      TTL: 2.5,
      N: 4,
      ON: true,
      LIST: ["x", "y"],
    });
    expect(readConfig(shape, { TABLE: "t", TTL: "" })).toMatchObject({ TTL: 30, LIST: ["a"] });
  });

  it("lists every problem at once, without values", () => {
    try {
      readConfig(shape, { TTL: "-1", N: "0", LIST: "[1]", ON: "secret-value" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      const message = (error as Error).message;
      for (const name of ["TABLE is not set", "TTL", "N", "LIST", "ON"]) expect(message).toContain(name);
      expect(message).not.toContain("secret-value");
    }
  });

  it("reads the PHI catalogue", () => {
    expect(readPhiCatalogue({})).toEqual({ vault: ["name", "dob"], tokenize: ["patient_id"] });
    expect(readPhiCatalogue({ PHI_CATALOGUE: '{"vault":["ssn"],"tokenize":["mrn"]}' })).toEqual({
      vault: ["ssn"],
      tokenize: ["mrn"],
    });
    expect(() => readPhiCatalogue({ PHI_CATALOGUE: '{"vault":["a"],"tokenize":["a"]}' })).toThrow(
      ConfigurationError,
    );
  });
});

describe("lazy", () => {
  it("memoizes success and forgets failure", async () => {
    let calls = 0;
    const get = lazy(async () => {
      calls++;
      if (calls === 1) throw new Error("first");
      return calls;
    });
    await expect(get()).rejects.toThrow("first");
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
  });
});
