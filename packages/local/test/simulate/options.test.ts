import { describe, expect, it } from "vitest";
import { InvalidSimulationOptionError } from "@driftwatch/core/simulator/errors";
import { parseSimulateOptions } from "../../src/simulate/options.ts";

const defaults = { mqttUrl: "mqtt://127.0.0.1:1883", httpUrl: "http://127.0.0.1:3000/" };

describe("parseSimulateOptions", () => {
  it("defaults to a small fleet, one connection per device, no anomalies", () => {
    const options = parseSimulateOptions({}, defaults);
    expect(options.run).toMatchObject({ rate: 10, clients: 20, seed: 1, qos: 1, mqttUrl: defaults.mqttUrl });
    expect(options.run.anomalies).toBeUndefined();
    expect(options.deviceCount).toBe(20);
    expect(options.types).toEqual(["medical", "weather", "fan", "canonical"]);
    expect(options.httpUrl).toBe("http://127.0.0.1:3000");
  });

  it("caps default connections at 100 and honours --clients", () => {
    expect(parseSimulateOptions({ devices: "1000" }, defaults).run.clients).toBe(100);
    expect(parseSimulateOptions({ devices: "1000", clients: "250" }, defaults).run.clients).toBe(250);
  });

  it("turns on every anomaly kind when only a rate is given", () => {
    const options = parseSimulateOptions({ anomalyRate: "0.01" }, defaults);
    expect(options.run.anomalies).toEqual({
      kinds: ["spike", "drift", "stuck", "dropout", "shift"],
      rate: 0.01,
    });
    expect(parseSimulateOptions({ anomalies: "spike" }, defaults).run.anomalies).toEqual({
      kinds: ["spike"],
      rate: 0.001,
    });
  });

  it("publishes to the broker topics unless --basic-ingest names a stage (flag alone: local)", () => {
    expect(parseSimulateOptions({}, defaults).run.basicIngestStage).toBeUndefined();
    expect(parseSimulateOptions({ basicIngest: true }, defaults).run.basicIngestStage).toBe("local");
    expect(parseSimulateOptions({ basicIngest: "production" }, defaults).run.basicIngestStage).toBe(
      "production",
    );
    expect(() => parseSimulateOptions({ basicIngest: "a/b" }, defaults)).toThrow(/--basic-ingest/);
  });

  it("names the option that is wrong", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ rate: "fast" }, /--rate/],
      [{ rate: "0" }, /--rate must be > 0/],
      [{ devices: "2.5" }, /--devices must be a whole number/],
      [{ devices: "5", clients: "6" }, /--clients \(6\) cannot exceed --devices \(5\)/],
      [{ duration: "10", count: "5" }, /not both/],
      [{ anomalyRate: "1.5" }, /--anomaly-rate must be in \[0, 1\]/],
      [{ qos: "2" }, /--qos must be 0 or 1/],
      [{ mqtt: "127.0.0.1:1883" }, /--mqtt must be/],
      [{ types: "medical,robot" }, /unknown device type "robot"/],
      [{ groundTruth: "x.jsonl" }, /--ground-truth needs --anomalies/],
    ];
    for (const [raw, message] of cases) {
      expect(() => parseSimulateOptions(raw, defaults)).toThrow(message);
      expect(() => parseSimulateOptions(raw, defaults)).toThrow(InvalidSimulationOptionError);
    }
  });
});
