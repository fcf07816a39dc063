import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import { readLocalConfig } from "../../src/runtime/config.ts";
import type { LocalContext } from "../../src/runtime/context.ts";
import { HttpRouter } from "../../src/runtime/http-router.ts";
import { StatusBoard } from "../../src/runtime/status-board.ts";

/** A `LocalContext` on a temp data dir with free ports, for starting single services in tests. */
export function testContext(
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-svc-")),
): LocalContext & { logs: string[]; env: Record<string, string> } {
  const logs: string[] = [];
  // As local mode does: handler logs to the service log (here: the array), no EMF on stdout, no SDK notice.
  configureObservability({ logSink: (line) => logs.push(`[lambda] ${line}`), metrics: "off" });
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const env: Record<string, string> = {};
  const config = readLocalConfig({
    DRIFTWATCH_DATA_DIR: dataDir,
    MQTT_PORT: "0",
    HTTP_PORT: "0",
    DRIFTWATCH_FIREHOSE_BUFFER_SECONDS: "1",
  });
  return {
    config,
    status: new StatusBoard(),
    http: new HttpRouter(),
    setHandlerEnv(values) {
      Object.assign(env, values);
      Object.assign(process.env, values);
    },
    ruleTargets: [],
    log: (component, message) => logs.push(`[${component}] ${message}`),
    logs,
    env,
  };
}
