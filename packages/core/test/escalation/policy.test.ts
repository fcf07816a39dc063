import { describe, expect, it } from "vitest";
import { PolicyConfigurationError } from "../../src/escalation/errors.ts";
import { parsePolicyCatalogue, resolvePolicy, toExecutionPolicy } from "../../src/escalation/policy.ts";

const tier = (channels: string[], ackTimeoutSeconds = 300) => ({ channels, ackTimeoutSeconds });
const catalogue = parsePolicyCatalogue({
  default: {
    id: "default",
    tiers: [tier(["sns:tier-1"]), tier(["sns:tier-2", "webhook:oncall"], 600)],
    repeat: 1,
  },
  manufacturers: { Acme: { id: "acme", tiers: [tier(["sns:acme"])] } },
  models: {
    "Acme#T-1000": { id: "acme-t1000", tiers: [tier(["sns:vip"], 60)], autoResolveAfterSeconds: 120 },
  },
});

describe("escalation policies", () => {
  it("resolve model > manufacturer > default", () => {
    expect(resolvePolicy(catalogue, { manufacturer: "Acme", model: "T-1000" })).toMatchObject({
      scope: "model",
      policy: { id: "acme-t1000" },
    });
    expect(resolvePolicy(catalogue, { manufacturer: "Acme", model: "T-2" })).toMatchObject({
      scope: "manufacturer",
      policy: { id: "acme" },
    });
    expect(resolvePolicy(catalogue, { model: "T-1000" })).toMatchObject({ scope: "default" });
    expect(resolvePolicy(catalogue, {})).toMatchObject({ scope: "default", policy: { id: "default" } });
  });

  it("turn into the state machine's shape with numbered tiers, counts and rounds", () => {
    const p = toExecutionPolicy(catalogue.default, "default");
    expect(p).toEqual({
      policyId: "default",
      scope: "default",
      tiers: [
        { number: 1, name: "tier-1", channels: ["sns:tier-1"], channelCount: 1, ackTimeoutSeconds: 300 },
        {
          number: 2,
          name: "tier-2",
          channels: ["sns:tier-2", "webhook:oncall"],
          channelCount: 2,
          ackTimeoutSeconds: 600,
        },
      ],
      tierCount: 2,
      repeat: 1,
      rounds: 2,
      quietSeconds: 3600,
    });
  });

  it("override every tier's timeout and the quiet period (local demos)", () => {
    const p = toExecutionPolicy(catalogue.default, "default", { ackTimeoutSeconds: 5, quietSeconds: 30 });
    expect(p.tiers.map((t) => t.ackTimeoutSeconds)).toEqual([5, 5]);
    expect(p.quietSeconds).toBe(30);
  });

  it("reject malformed catalogues with every problem and its path", () => {
    expect(() => parsePolicyCatalogue("{nope")).toThrow(PolicyConfigurationError);
    try {
      parsePolicyCatalogue({
        default: { id: "d", tiers: [{ channels: ["email:x"], ackTimeoutSeconds: 0 }] },
      });
      expect.unreachable();
    } catch (error) {
      const issues = (error as PolicyConfigurationError).issues.map((i) => i.path);
      expect(issues).toEqual(
        expect.arrayContaining(["default.tiers.0.channels.0", "default.tiers.0.ackTimeoutSeconds"]),
      );
    }
    expect(() => parsePolicyCatalogue({ default: { id: "d", tiers: [] } })).toThrow(/tiers/);
  });
});
