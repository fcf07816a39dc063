import { describe, expect, it } from "vitest";
import {
  formFromRule,
  normalizeScope,
  resolveChain,
  scopeChain,
  validateForm,
  type RuleForm,
} from "../src/rule-form.ts";

const form = (patch: Partial<RuleForm>): RuleForm => ({
  bounds: [],
  scoreThreshold: "",
  silenceWindows: "",
  stuckReadings: "",
  ...patch,
});

describe("threshold editor validation", () => {
  it("builds the API body from a valid form", () => {
    const { errors, rule } = validateForm(
      form({
        bounds: [{ metric: "pressure", min: "", max: "5" }],
        scoreThreshold: "2.5",
        silenceWindows: "0",
        stuckReadings: '{"temp": 12, "*": 0}',
      }),
    );
    expect(errors).toEqual({});
    expect(rule).toEqual({
      bounds: { pressure: { max: 5 } },
      scoreThreshold: 2.5,
      silenceWindows: 0,
      stuckReadings: { temp: 12, "*": 0 },
    });
  });

  it("names each wrong field next to it and returns no body", () => {
    const { errors, rule } = validateForm(
      form({
        bounds: [
          { metric: "pressure", min: "9", max: "5" },
          { metric: "", min: "", max: "" },
          { metric: "pressure", min: "x", max: "" },
        ],
        scoreThreshold: "-1",
        silenceWindows: "1.5",
        stuckReadings: "{nope",
      }),
    );
    expect(rule).toBeUndefined();
    expect(errors).toEqual({
      "bounds.0.min": "min must not exceed max",
      "bounds.1.metric": "name the metric",
      "bounds.1.min": "give min, max or both",
      "bounds.2.metric": "pressure is listed twice",
      "bounds.2.min": "min must be a number",
      scoreThreshold: "a number above 0",
      silenceWindows: "a whole number from 0 to 10000",
      stuckReadings: "not valid JSON",
    });
  });

  it("round-trips a stored rule through the form", () => {
    const stored = { bounds: { temp: { min: -5, max: 40 } }, silenceWindows: 3, stuckReadings: 7 };
    expect(validateForm(formFromRule(stored)).rule).toEqual(stored);
    expect(validateForm(formFromRule(undefined)).rule).toEqual({});
  });
});

describe("scope inheritance", () => {
  it("resolves each setting to the most specific scope and marks overrides", () => {
    const chain = scopeChain("devices/pump-7", { manufacturer: "Acme", model: "P1" });
    expect(chain).toEqual(["devices/pump-7", "models/Acme/P1", "manufacturers/Acme", "global"]);
    const origins = resolveChain(chain, [
      { scope: "global", bounds: { pressure: { max: 10 } }, silenceWindows: 5 },
      { scope: "model#Acme#P1", bounds: { pressure: { min: 1 } } },
      { scope: "devices/pump-7", bounds: { pressure: { max: 5 } } },
    ]);
    expect(origins).toEqual([
      { setting: "pressure max", value: "5", scope: "devices/pump-7", overridden: true },
      { setting: "pressure min", value: "1", scope: "models/Acme/P1", overridden: false },
      { setting: "silenceWindows", value: "5", scope: "global", overridden: false },
    ]);
    expect(normalizeScope("manufacturer#Acme")).toBe("manufacturers/Acme");
    expect(scopeChain("models/Acme/P1")).toEqual(["models/Acme/P1", "manufacturers/Acme", "global"]);
  });
});
