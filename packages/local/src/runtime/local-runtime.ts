import fs from "node:fs";
import type { AddressInfo } from "node:net";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import { registerStatusRoutes } from "./status-routes.ts";
import { registerApiRoutes } from "./api-routes.ts";
import { registerConsoleRoutes } from "./console-routes.ts";
import { HttpRouter } from "./http-router.ts";
import { acquireInstanceLock } from "./instance-lock.ts";
import { StatusBoard } from "./status-board.ts";
import { startMemoryProbe } from "./memory-probe.ts";
import { createLogSink, type LocalContext, type LocalService } from "./context.ts";
import type { LocalConfig } from "./config.ts";
import { startStorage } from "../storage/index.ts";
import { startEscalation } from "../escalation/index.ts";
import { startScoring } from "../scoring/index.ts";
import { startIngest } from "../ingest/index.ts";

export interface LocalRuntime {
  context: LocalContext;
  services: LocalService[];
  /** Stops services in reverse order, flushing buffers (Firehose, windows) first. */
  stop(): Promise<void>;
}

/**
 * Starts local mode: every service on 127.0.0.1, data under `config.dataDir`. The same handlers and core
 * code as on AWS run here; only the adapters of core's ports and the AWS service stand-ins differ.
 */
export async function startLocalRuntime(config: LocalConfig): Promise<LocalRuntime> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const stopMemoryProbe = startMemoryProbe("main"); // a diagnostic, off unless DRIFTWATCH_MEMORY_PROBE is set
  const lock = acquireInstanceLock(config.dataDir);
  const sink = createLogSink(config.dataDir);
  // Handler logs (Powertools JSON) go to the log file, never to stdout where the status line is; EMF metrics
  // are off (the status board counts instead) unless DRIFTWATCH_LOCAL_METRICS=log puts them in the log too.
  configureObservability({
    logSink: (line) => sink.log("lambda", line),
    metrics: process.env.DRIFTWATCH_LOCAL_METRICS === "log" ? "sink" : "off",
    logLevel: process.env.POWERTOOLS_LOG_LEVEL || "INFO",
  });
  const http = new HttpRouter();
  const context: LocalContext = {
    config,
    status: new StatusBoard(),
    http,
    setHandlerEnv(values) {
      Object.assign(process.env, values);
    },
    ruleTargets: [],
    thresholdsChanged: [],
    log: sink.log,
  };
  const services: LocalService[] = [];
  let stopped: Promise<void> | undefined;
  const stopAll = () =>
    (stopped ??= (async () => {
      for (const service of [...services].reverse()) {
        try {
          await service.stop();
        } catch (error) {
          sink.log("runtime", `stopping ${service.name} failed: ${(error as Error).message}`);
        }
      }
      configureObservability({});
      stopMemoryProbe();
      sink.close();
      lock.release();
    })());
  try {
    services.push(await startStorage(context));
    services.push(await startEscalation(context));
    services.push(await startScoring(context));
    services.push(await startIngest(context));
    registerStatusRoutes(context);
    await registerApiRoutes(context);
    registerConsoleRoutes(context);
    const server = await http.listen(config.httpPort, config.host);
    // With port 0 (tests), publish the port actually bound.
    config.httpPort = (server.address() as AddressInfo).port;
    services.push({ name: "http", stop: () => http.close() });
  } catch (error) {
    await stopAll();
    throw error;
  }
  sink.log(
    "runtime",
    `started: MQTT ${config.host}:${config.mqttPort}, HTTP ${config.host}:${config.httpPort}, data ${config.dataDir}`,
  );
  return { context, services, stop: stopAll };
}
