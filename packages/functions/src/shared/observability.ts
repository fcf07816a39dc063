import { Console } from "node:console";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { LogItem } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import type { MiddlewareObj } from "@middy/core";

/**
 * The one place handlers get their logger, metrics and tracer (Powertools), configured from the standard
 * Powertools environment: `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`, `POWERTOOLS_METRICS_NAMESPACE`,
 * `POWERTOOLS_METRICS_DISABLED`, `POWERTOOLS_TRACE_ENABLED` (tracing is off outside Lambda anyway).
 *
 * Local mode runs the same handlers in-process and must keep stdout for its status line: it calls
 * `configureObservability({ logSink, metrics: "off" | "sink" })` to send log lines (and EMF metric lines) to its
 * log file instead. Logs never carry PHI: handlers log codes, counts and record ids only.
 */

type LineSink = (line: string) => void;

const state: { logSink?: LineSink; metricsMode: "stdout" | "off" | "sink" } = { metricsMode: "stdout" };

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || "driftwatch";
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || "Driftwatch";

class DriftwatchLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    if (state.logSink === undefined) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    state.logSink(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

type MetricsOptions = NonNullable<ConstructorParameters<typeof Metrics>[0]>;

class DriftwatchMetrics extends Metrics {
  readonly #options: MetricsOptions;

  constructor(options: MetricsOptions = {}) {
    super(options);
    this.#options = options;
  }

  override publishStoredMetrics(): this {
    if (state.metricsMode === "stdout") return super.publishStoredMetrics();
    if (state.metricsMode === "sink" && state.logSink !== undefined && this.hasStoredMetrics()) {
      state.logSink(JSON.stringify(this.serializeMetrics()));
    }
    this.clearMetrics();
    this.clearDimensions();
    return this;
  }

  override singleMetric(): Metrics {
    return new DriftwatchMetrics({ ...this.#options, singleMetric: true });
  }
}

export const logger: Logger = new DriftwatchLogger({ serviceName });
export const metrics: Metrics = new DriftwatchMetrics({ namespace, serviceName });
/**
 * Powertools Tracer in Lambda; outside Lambda (local mode, tests, benchmarks) or with
 * `POWERTOOLS_TRACE_ENABLED=false`, a stand-in whose `capture*` helpers return their argument and whose other
 * methods do nothing. The Tracer module is not even loaded then: it loads the X-Ray SDK, which installs a
 * process-wide async hook that costs every promise about 20% (measured with bench/transform.ts).
 */
export const tracer: Tracer =
  process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined &&
  process.env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== "false"
    ? new (await import("@aws-lambda-powertools/tracer")).Tracer({ serviceName })
    : disabledTracer();

function disabledTracer(): Tracer {
  const passThrough = new Set(["captureAWSv3Client", "captureAWSClient", "captureAWS"]);
  const decorators = new Set(["captureLambdaHandler", "captureMethod"]);
  return new Proxy({} as Tracer, {
    get(_target, property) {
      if (property === "isTracingEnabled") return () => false;
      if (passThrough.has(String(property))) return <T>(client: T) => client;
      if (decorators.has(String(property)))
        return () => (_target: unknown, _key: unknown, descriptor: unknown) => descriptor;
      if (property === "then") return undefined; // not a thenable
      return () => undefined;
    },
  });
}
export { MetricUnit };

/** Redirects logs (and optionally metrics) away from stdout, or back (`{}`), at run time. */
export function configureObservability(options: {
  /** Receives each log line (JSON); undefined restores stdout. */
  logSink?: LineSink;
  /** Log level, e.g. `DEBUG`, `INFO`, `WARN`, `ERROR`, `SILENT`. */
  logLevel?: string;
  /** `stdout` (EMF, as in Lambda), `off`, or `sink` (EMF lines to the log sink). */
  metrics?: "stdout" | "off" | "sink";
}): void {
  state.logSink = options.logSink;
  if (options.metrics !== undefined) state.metricsMode = options.metrics;
  if (options.logLevel !== undefined)
    logger.setLogLevel(options.logLevel as Parameters<Logger["setLogLevel"]>[0]);
}

/**
 * Adds the middlewares every handler uses: the handler's X-Ray subsegment with the cold-start annotation
 * (`captureLambdaHandler`; responses are not recorded, errors are), Lambda context in logs
 * (`injectLambdaContext`) and metrics flushed after each invocation, errors included (`logMetrics`, with the
 * cold-start metric). Outside Lambda the tracer is the stand-in and its middleware does nothing.
 *
 *   export const handler = withObservability(middy(async (event: E) => …));
 */
export function withObservability<H extends { use(middleware: MiddlewareObj): H }>(
  handler: H,
  options: { tracer?: Tracer } = {},
): H {
  return handler
    .use(captureLambdaHandler(options.tracer ?? tracer, { captureResponse: false }) as MiddlewareObj)
    .use(injectLambdaContext(logger) as MiddlewareObj)
    .use(logMetrics(metrics, { captureColdStartMetric: true }) as MiddlewareObj);
}

/** A console writing straight to the process streams (bypasses Lambda's console patching), for scripts. */
export const rawConsole = new Console({ stdout: process.stdout, stderr: process.stderr });
