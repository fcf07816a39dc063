import type { Tracer } from "@aws-lambda-powertools/tracer";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  MetricUnit,
  configureObservability,
  logger,
  metrics,
  withObservability,
} from "../../src/shared/observability.ts";

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

describe("withObservability", () => {
  it("traces the handler (captureLambdaHandler): a subsegment per invocation with the cold-start annotation", async () => {
    const events: string[] = [];
    const handlerSegment = { close: () => events.push("close") };
    const fakeTracer = {
      isTracingEnabled: () => true,
      getSegment: () => ({
        addNewSubsegment: (name: string) => (events.push(`open ${name}`), handlerSegment),
      }),
      setSegment: () => undefined,
      annotateColdStart: () => events.push("coldStart"),
      addServiceNameAnnotation: () => events.push("service"),
      addResponseAsMetadata: () => events.push("response"),
      addErrorAsMetadata: (error: Error) => events.push(`error ${error.name}`),
    } as unknown as Tracer;
    configureObservability({ logSink: () => undefined, metrics: "off" });
    const handler = withObservability(
      middy(async (event: { fail?: boolean }) => {
        events.push("handler");
        if (event.fail) throw new TypeError("boom");
        return { ok: true };
      }),
      { tracer: fakeTracer },
    );
    const context = { functionName: "f", awsRequestId: "r" } as Context;

    expect(await handler({}, context)).toEqual({ ok: true });
    await expect(handler({ fail: true }, context)).rejects.toThrow("boom");

    const opened = `open ## ${process.env._HANDLER}`;
    expect(events).toEqual([
      opened,
      "coldStart",
      "service",
      "handler",
      "close",
      opened,
      "coldStart",
      "service",
      "handler",
      "error TypeError",
      "close",
    ]);
  });
});
