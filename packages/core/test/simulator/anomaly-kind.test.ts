import { describe, expect, it } from "vitest";
import { parseAnomalyKinds, validateAnomalyOptions } from "../../src/simulator/anomaly-kind.ts";
import { InvalidSimulationOptionError } from "../../src/simulator/errors.ts";

describe("anomaly options", () => {
  it("parses a comma-separated list once per kind", () => {
    expect(parseAnomalyKinds("spike, drift,stuck,dropout,spike")).toEqual([
      "spike",
      "drift",
      "stuck",
      "dropout",
    ]);
  });

  it("names an unknown kind", () => {
    expect(() => parseAnomalyKinds("spike,wobble")).toThrow(/unknown anomaly kind "wobble"/);
    expect(() => parseAnomalyKinds("")).toThrow(InvalidSimulationOptionError);
  });

  it("checks rate and ranges", () => {
    expect(() => validateAnomalyOptions({ kinds: ["spike"], rate: -0.1 })).toThrow(/probability/);
    expect(() =>
      validateAnomalyOptions({ kinds: ["spike"], rate: 0.1, durationsSeconds: { drift: [10, 5] } }),
    ).toThrow(/drift range/);
    expect(() =>
      validateAnomalyOptions({ kinds: ["spike"], rate: 0.1, magnitudes: { spike: [5, 9] } }),
    ).not.toThrow();
  });
});
