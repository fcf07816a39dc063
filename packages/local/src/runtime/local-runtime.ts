import fs from "node:fs";
import { HttpRouter } from "./http-router.ts";
import { StatusBoard } from "./status-board.ts";
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
  const sink = createLogSink(config.dataDir);
  const http = new HttpRouter();
  const context: LocalContext = {
    config,
    status: new StatusBoard(),
    http,
    setHandlerEnv(values) {
      Object.assign(process.env, values);
    },
    ruleTargets: [],
    log: sink.log,
  };
  const services: LocalService[] = [];
  const stopAll = async () => {
    for (const service of [...services].reverse()) {
      try {
        await service.stop();
      } catch (error) {
        sink.log("runtime", `stopping ${service.name} failed: ${(error as Error).message}`);
      }
    }
    sink.close();
  };
  try {
    services.push(await startStorage(context));
    services.push(await startEscalation(context));
    services.push(await startScoring(context));
    services.push(await startIngest(context));
    await http.listen(config.httpPort, config.host);
    services.push({ name: "http", stop: () => http.close() });
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { context, services, stop: stopAll };
}
