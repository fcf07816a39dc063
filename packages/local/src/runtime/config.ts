import path from "node:path";
import { ConfigurationError } from "@driftwatch/core/shared/errors";

/** Local mode settings, read once from the environment (see DESIGN.md "External contract"). */
export interface LocalConfig {
  dataDir: string;
  host: string;
  mqttPort: number;
  httpPort: number;
  /** Tumbling window of the scoring event source mapping, seconds. */
  windowSeconds: number;
  /** Firehose buffer interval, seconds. */
  firehoseBufferSeconds: number;
  /** Firehose buffer size, bytes (Firehose default 5 MiB). */
  firehoseBufferBytes: number;
  /** Acknowledgement timeout of every escalation tier, seconds. */
  ackTimeoutSeconds: number;
  /** Stage name used in resource names, `local`. */
  stage: string;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new ConfigurationError(`${name} must be a number >= ${min}, got "${raw}"`);
  }
  return value;
}

export function readLocalConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LocalConfig {
  return {
    dataDir: path.resolve(cwd, env.DRIFTWATCH_DATA_DIR || ".driftwatch"),
    host: "127.0.0.1",
    mqttPort: intFromEnv(env, "MQTT_PORT", 1883),
    httpPort: intFromEnv(env, "HTTP_PORT", 3000),
    windowSeconds: intFromEnv(env, "DRIFTWATCH_WINDOW_SECONDS", 60, 1),
    firehoseBufferSeconds: intFromEnv(env, "DRIFTWATCH_FIREHOSE_BUFFER_SECONDS", 60, 0),
    firehoseBufferBytes: intFromEnv(env, "DRIFTWATCH_FIREHOSE_BUFFER_BYTES", 5 * 1024 * 1024, 1024),
    ackTimeoutSeconds: intFromEnv(env, "DRIFTWATCH_ACK_TIMEOUT_SECONDS", 300, 1),
    stage: "local",
  };
}
