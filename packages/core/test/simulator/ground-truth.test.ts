import { describe, expect, it } from "vitest";
import { InvalidGroundTruthError } from "../../src/simulator/errors.ts";
import {
  formatGroundTruthLine,
  parseGroundTruth,
  type GroundTruthLabel,
} from "../../src/simulator/ground-truth.ts";

const spike: GroundTruthLabel = {
  deviceId: "device8401",
  deviceType: "medical",
  metric: "pulse",
  metrics: ["pulse"],
  kind: "spike",
  start: "2024-06-01T00:00:01.000Z",
  end: "2024-06-01T00:00:01.000Z",
  messages: 1,
  direction: "HIGH",
  magnitude: 30.5,
};
const dropout: GroundTruthLabel = {
  deviceId: "ABC123456",
  deviceType: "fan",
  metric: "*",
  metrics: ["FREQ", "RPM"],
  kind: "dropout",
  start: "2024-06-01T00:01:00.000Z",
  end: "2024-06-01T00:03:00.000Z",
  messages: 120,
  truncated: true,
};

describe("ground truth JSONL", () => {
  it("round-trips labels, one per line", () => {
    const text = formatGroundTruthLine(spike) + "\n" + formatGroundTruthLine(dropout);
    expect(text.split("\n").filter(Boolean)).toHaveLength(2);
    expect(parseGroundTruth(text)).toEqual([spike, dropout]);
  });

  it("names the bad line", () => {
    expect(() => parseGroundTruth(formatGroundTruthLine(spike) + "{oops\n")).toThrow(/line 2: not JSON/);
    expect(() => parseGroundTruth(JSON.stringify({ ...spike, kind: "wobble" }))).toThrow(
      InvalidGroundTruthError,
    );
    expect(() => parseGroundTruth(JSON.stringify({ ...spike, start: "yesterday" }))).toThrow(/line 1: start/);
  });
});
