import { describe, expect, it } from "vitest";
import { InvalidDeviceListError, parseDeviceList } from "../../src/storage/device-list.ts";

function issuesOf(value: unknown): readonly string[] {
  try {
    parseDeviceList(value);
  } catch (error) {
    if (error instanceof InvalidDeviceListError) return error.issues;
    throw error;
  }
  throw new Error("expected the list to be rejected");
}

describe("parseDeviceList", () => {
  it("accepts the import contract and drops exact repeats", () => {
    const list = [
      { deviceId: "device8401", manufacturer: "Halvard Medical", model: "VitaLink 300", site: "icu" },
      { deviceId: "ABC123456", manufacturer: "Aerolux", model: "CF-120" },
      { deviceId: "device8401", manufacturer: "Halvard Medical", model: "VitaLink 300", site: "icu" },
    ];
    expect(parseDeviceList(list)).toEqual(list.slice(0, 2));
  });

  it("names the index and field of every problem", () => {
    expect(
      issuesOf([
        { deviceId: "a", manufacturer: "m" },
        { deviceId: "", manufacturer: "m", model: "x" },
        { deviceId: "c", manufacturer: 7, model: "x" },
        { deviceId: "d", manufacturer: "m", model: "x", site: "" },
      ]),
    ).toEqual([
      "[0].model is required (string)",
      "[1].deviceId must not be empty",
      "[2].manufacturer must be string, got number",
      "[3].site must not be empty",
    ]);
  });

  it("says when the document is not a list", () => {
    expect(issuesOf({ deviceId: "a" })).toEqual(["(the list) must be a JSON array of devices, got object"]);
  });

  it("rejects one id with two different descriptions", () => {
    expect(
      issuesOf([
        { deviceId: "a", manufacturer: "m", model: "x" },
        { deviceId: "a", manufacturer: "m", model: "y" },
      ]),
    ).toEqual(["[1].deviceId repeats [0].deviceId with different attributes"]);
  });
});
