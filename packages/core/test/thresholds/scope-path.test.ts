import { describe, expect, it } from "vitest";
import { effectiveSettings } from "../../src/thresholds/effective-settings.ts";
import { InvalidScopeError, parseScopePath, scopePathOf } from "../../src/thresholds/scope-path.ts";
import { thresholdRuleBodySchema } from "../../src/thresholds/threshold-rule.ts";

describe("threshold scope paths", () => {
  it("maps every path form to its table key and back", () => {
    for (const [path, key] of [
      ["global", "global"],
      ["manufacturers/acme", "manufacturer#acme"],
      ["models/acme/p 100", "model#acme#p 100"],
      ["devices/pump-7", "device#pump-7"],
    ]) {
      expect(parseScopePath(path)).toMatchObject({ path, key });
      expect(scopePathOf(key)).toBe(path);
    }
    expect(parseScopePath("models/acme/p%20100").key).toBe("model#acme#p 100");
  });

  it("refuses anything else with an error naming scope", () => {
    for (const bad of [
      "",
      "device#pump-7",
      "devices",
      "devices/a/b",
      "globals",
      "models/acme",
      "devices/a#b",
      "x/y",
    ]) {
      const error = (() => {
        try {
          parseScopePath(bad);
        } catch (e) {
          return e as InvalidScopeError;
        }
      })();
      expect(error, bad).toBeInstanceOf(InvalidScopeError);
      expect(error!.issues[0].path).toBe("scope");
    }
  });
});

describe("threshold rule body", () => {
  it("is strict: unknown fields, wrong types and min > max are refused with their paths", () => {
    const unknown = thresholdRuleBodySchema.safeParse({ metric: "pressure", max: 5 });
    expect(unknown.success).toBe(false);
    expect(unknown.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["metric", "max"] });
    const nested = thresholdRuleBodySchema.safeParse({ bounds: { pressure: { max: 5, maxx: 6 } } });
    expect(nested.error!.issues[0].path).toEqual(["bounds", "pressure"]);
    const type = thresholdRuleBodySchema.safeParse({ bounds: { pressure: { max: "5" } } });
    expect(type.error!.issues[0].path).toEqual(["bounds", "pressure", "max"]);
    const order = thresholdRuleBodySchema.safeParse({ bounds: { pressure: { min: 6, max: 5 } } });
    expect(order.error!.issues[0]).toMatchObject({
      path: ["bounds", "pressure", "min"],
      message: "min must not exceed max",
    });
    expect(thresholdRuleBodySchema.parse({ bounds: { pressure: { max: 5 } }, silenceWindows: 0 })).toEqual({
      bounds: { pressure: { max: 5 } },
      silenceWindows: 0,
    });
  });
});

describe("effective settings", () => {
  it("tags each value with the scope path it came from, defaults as `default`", () => {
    const device = { deviceId: "pump-7", manufacturer: "acme", model: "p1" };
    const settings = effectiveSettings(
      device,
      [
        { scope: "global", bounds: { pressure: { min: 1, max: 9 } }, silenceWindows: 5 },
        { scope: "device#pump-7", bounds: { pressure: { max: 5 } } },
        { scope: "model#acme#p1", bounds: { flow: { min: 0 } }, scoreThreshold: 3 },
      ],
      { silenceWindows: 3, stuckReadings: 10 },
    );
    expect(settings).toEqual({
      deviceId: "pump-7",
      scopes: ["devices/pump-7", "models/acme/p1", "manufacturers/acme", "global"],
      bounds: {
        pressure: { max: { value: 5, scope: "devices/pump-7" } },
        flow: { min: { value: 0, scope: "models/acme/p1" } },
      },
      scoreThreshold: { value: 3, scope: "models/acme/p1" },
      silenceWindows: { value: 5, scope: "global" },
      stuckReadings: { value: 10, scope: "default" },
    });
  });
});
