import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import mqtt from "mqtt";
import { open } from "@driftwatch/core/privacy/aes-gcm";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
export const cliEntry = path.join(repoRoot, "packages/local/bin/driftwatch.js");

export interface LocalInstance {
  dataDir: string;
  mqttPort: number;
  httpPort: number;
  child: ChildProcess;
  output(): string;
  /** Sends the signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `driftwatch start` as a child process, as a user would (`npm start`), on free ports (MQTT_PORT=0,
 * HTTP_PORT=0: the banner says which were bound) and the given data dir.
 */
export async function startLocalInstance(
  options: { dataDir?: string; env?: Record<string, string> } = {},
): Promise<LocalInstance> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-it-"));
  const child = spawn(process.execPath, [cliEntry, "start"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DRIFTWATCH_DATA_DIR: dataDir,
      MQTT_PORT: "0",
      HTTP_PORT: "0",
      DRIFTWATCH_FIREHOSE_BUFFER_SECONDS: "1",
      NODE_ENV: "production",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // Generous: on a busy machine (the suite beside a CPU-bound job) loading the CLI alone can take a minute.
  const deadline = Date.now() + 170_000;
  while (!/Ctrl-C stops/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`local instance did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const mqttPort = Number(/mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  const httpPort = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  return {
    dataDir,
    mqttPort,
    httpPort,
    child,
    output: () => output,
    async stop(signal = "SIGINT") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI once (e.g. `devices import file.json`) and returns its exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      cwd: repoRoot,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A real MQTT 3.1.1 client (the `mqtt` package) connected to the instance. */
export async function connectMqtt(port: number, clientId?: string): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4,
    clientId,
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

export function publish(
  client: mqtt.MqttClient,
  topic: string,
  payload: string | Buffer,
  qos: 0 | 1 = 1,
): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, payload, { qos }, (error) => (error ? reject(error) : resolve())),
  );
}

export function endMqtt(client: mqtt.MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

/**
 * Every file under `dir` (absolute paths). A file gone between listing and `stat` (the temporary half of an atomic
 * write — write, then rename — that local mode may have in flight) is not listed.
 */
export function allFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((name) => path.join(dir, name))
    .filter((file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true);
}

/** The raw zone's local key of a data dir (to open `.enc` objects as the break-glass role would). */
export function rawZoneKey(dataDir: string): Buffer {
  return fs.readFileSync(path.join(dataDir, "keys", "raw-zone.key"));
}

/** Bytes of a lake object as a reader sees them: opened (`.enc`) and gunzipped (`.gz`). */
export function readObject(file: string, key?: Buffer): Buffer {
  let bytes = fs.readFileSync(file);
  if (file.endsWith(".enc")) {
    if (!key) throw new Error(`${file} is sealed`);
    bytes = open(key, bytes).plaintext;
  }
  if (file.endsWith(".gz") || file.endsWith(".gz.enc")) bytes = zlib.gunzipSync(bytes);
  return bytes;
}

/** The NDJSON records of every object under `lake/<zone>/` (sealed objects opened with the raw zone's key). */
export function readZone(dataDir: string, zone: string): Record<string, unknown>[] {
  return allFiles(path.join(dataDir, "lake", zone))
    .sort()
    .flatMap((file) =>
      readObject(file, file.endsWith(".enc") ? rawZoneKey(dataDir) : undefined)
        .toString("utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
}
