import { afterEach, describe, expect, it, vi } from "vitest";
import { MetricUnit, configureObservability, logger, metrics } from "../../src/shared/observability.ts";

afterEach(() => configureObservability({ logSink: undefined, logLevel: "INFO", metrics: "stdout" }));

describe("observability", () => {
  it("sends logs to a sink instead of stdout, honouring the level", () => {
    const lines: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write");
    configureObservability({ logSink: (line) => lines.push(line), logLevel: "WARN" });
    logger.info("hidden");
    logger.warn("shown", { code: "X" });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: "WARN",
      message: "shown",
      code: "X",
      service: "driftwatch",
    });
    expect(stdout).not.toHaveBeenCalled();
    stdout.mockRestore();
  });

  it("metrics can be switched off or sent to the sink as EMF", () => {
    const lines: string[] = [];
    configureObservability({ logSink: (line) => lines.push(line), metrics: "off" });
    metrics.addMetric("Test", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    expect(lines).toHaveLength(0);
    configureObservability({ logSink: (line) => lines.push(line), metrics: "sink" });
    metrics.addMetric("Test", MetricUnit.Count, 2);
    metrics.publishStoredMetrics();
    expect(JSON.parse(lines[0])).toMatchObject({
      Test: 2,
      _aws: { CloudWatchMetrics: [{ Namespace: "Driftwatch" }] },
    });
  });
});
