/**
 * Local-mode ingest benchmark (issue 2, "Performance (local)"): 1,000 messages/s from 100 MQTT clients for 60 s
 * through local mode, then every message is looked for in the lake.
 *
 *   npx tsx bench/local-ingest.ts [--rate 1000] [--clients 100] [--duration 60] [--devices 1000]
 *                                 [--buffer-seconds 60] [--types medical,weather,fan,canonical] [--seed 1] [--qos 1]
 *
 * Method: local mode runs IN this process (`startLocalRuntime`, temp DATA_DIR, free ports, the default Firehose
 * buffering unless --buffer-seconds), so its memory can be sampled (rss, heap; peak RSS from /proc VmHWM). The
 * devices are registered through the local API (`POST /api/devices`). The publisher runs in a CHILD process
 * (this file with `--role publisher`, i.e. the simulator's `runSimulation`), so it does not share the runtime's
 * event loop; it records a key and the publish time of every message it sends. After publishing, the benchmark
 * waits until the runtime has delivered as many records to the lake as were sent (or a timeout), stops the
 * runtime (flushing anything left), then gunzips every object under `lake/readings/` and `lake/errors/` and
 * matches each record to a sent message by (device, event time, primary metric value): lost = sent and not
 * found, duplicates = found more than once, unexpected = found but never sent. End-to-end delivery per message
 * = lake object's write time − publish time.
 *
 * Prints a table, writes `bench/results/local-ingest.json`. Figures and method: docs/benchmarks/local-ingest.md.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { parseDeviceTypes, type SimulatedDeviceType } from "@driftwatch/core/simulator/device-types";
import { simulatedDevices, toRegistryDevice } from "@driftwatch/core/simulator/devices";
import { parseEventTime } from "@driftwatch/core/telemetry/event-time";
import { readLocalConfig } from "@driftwatch/local/runtime/config";
import { startLocalRuntime } from "@driftwatch/local/runtime/local-runtime";
import { registerDevicesOverHttp } from "@driftwatch/local/simulate/register-devices";
import { runSimulation, type SimulationSummary } from "@driftwatch/local/simulate/run-simulation";
import { freePort } from "../packages/local/test/helpers/free-port.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

interface Args {
  role: "bench" | "publisher";
  rate: number;
  clients: number;
  duration: number;
  devices: number;
  bufferSeconds?: number;
  types: SimulatedDeviceType[];
  seed: number;
  qos: 0 | 1;
  mqtt?: string;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, fallback: number) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${name} must be a positive number, got "${raw}"`);
    return value;
  };
  const rate = num("rate", 1000);
  return {
    role: get("role") === "publisher" ? "publisher" : "bench",
    rate,
    clients: num("clients", 100),
    duration: num("duration", 60),
    // One message per device per second by default: the seed 003 timestamp has whole seconds.
    devices: num("devices", rate),
    bufferSeconds: get("buffer-seconds") === undefined ? undefined : num("buffer-seconds", 60),
    types: parseDeviceTypes(get("types") ?? "medical,weather,fan,canonical"),
    seed: num("seed", 1),
    qos: get("qos") === "0" ? 0 : 1,
    mqtt: get("mqtt"),
    out: get("out"),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Matching sent messages to lake records

/** The metric that identifies a message together with device and event time (weather: the topic's sensor type). */
function primaryMetric(source: string, topic: string): string {
  if (source === "weather") return topic.split("/")[4];
  if (source === "fan") return "FREQ";
  return "temperature"; // medical and the simulated canonical pump
}

function sourceOfTopic(topic: string): string {
  if (topic.startsWith("weather/")) return "weather";
  if (topic.startsWith("dt/")) return "canonical";
  if (topic === "IoT_TOPIC/recieve") return "fan";
  return "medical";
}

/** Key of a message from its topic and payload (the published message, or an error record's stripped payload). */
function keyOfPayload(topic: string, payload: Record<string, unknown>): string | undefined {
  const source = sourceOfTopic(topic);
  const fields: Record<string, [string, string, () => unknown]> = {
    medical: ["device_id", "timestamp", () => payload.temperature],
    weather: ["", "timestamp", () => payload.value],
    fan: ["FANID", "TIME", () => payload.FREQ],
    canonical: [
      "deviceId",
      "ts",
      () => (payload.metrics as Record<string, unknown> | undefined)?.temperature,
    ],
  };
  const [idField, timeField, value] = fields[source];
  const deviceId = source === "weather" ? topic.split("/")[3] : payload[idField];
  const time = parseEventTime(payload[timeField]);
  if (typeof deviceId !== "string" || !time.ok) return undefined;
  return `${deviceId}|${time.ms}|${primaryMetric(source, topic)}=${String(value())}`;
}

/** Key of a reading in `lake/readings/`. */
function keyOfReading(reading: {
  deviceId: string;
  ts: string;
  topic: string;
  source: string;
  metrics: Record<string, number>;
}) {
  const metric = primaryMetric(reading.source, reading.topic);
  return `${reading.deviceId}|${Date.parse(reading.ts)}|${metric}=${String(reading.metrics[metric])}`;
}

function listObjects(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".gz"))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------------------------------------------------------
// Publisher (child process)

async function publisher(args: Args): Promise<void> {
  if (!args.mqtt || !args.out) throw new Error("publisher needs --mqtt and --out");
  const lines: string[] = [];
  const summary = await runSimulation({
    mqttUrl: args.mqtt,
    devices: simulatedDevices(args.devices, { types: args.types }),
    clients: args.clients,
    rate: args.rate,
    durationSeconds: args.duration,
    seed: args.seed,
    qos: args.qos,
    drainTimeoutMs: 120_000,
    onPublish: (message, publishedAtMs) => {
      lines.push(`${keyOfPayload(message.topic, JSON.parse(message.payload))}\t${publishedAtMs}`);
    },
  });
  fs.writeFileSync(`${args.out}.published.tsv`, lines.join("\n"));
  fs.writeFileSync(`${args.out}.summary.json`, JSON.stringify(summary));
}

// ---------------------------------------------------------------------------------------------------------------
// Benchmark (parent)

function peakRssFromProc(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes: number) => bytes / (1024 * 1024);

async function bench(args: Args): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-bench-ingest-"));
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DRIFTWATCH_DATA_DIR: dataDir,
    MQTT_PORT: String(mqttPort),
    HTTP_PORT: String(httpPort),
  };
  if (args.bufferSeconds !== undefined) env.DRIFTWATCH_FIREHOSE_BUFFER_SECONDS = String(args.bufferSeconds);
  const config = readLocalConfig(env);
  process.stderr.write(
    `local-ingest: ${args.rate} msg/s, ${args.clients} clients, ${args.devices} devices, ${args.duration} s; ` +
      `Firehose buffer ${config.firehoseBufferSeconds} s / ${mb(config.firehoseBufferBytes).toFixed(0)} MiB; data ${dataDir}\n`,
  );

  const loadAtStart = os.loadavg();
  const startupBegan = performance.now();
  const runtime = await startLocalRuntime(config);
  const startupMs = performance.now() - startupBegan;
  const { status } = runtime.context;
  const memory = { rssPeak: 0, heapUsedPeak: 0, heapTotalPeak: 0, samples: 0, rssSum: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    memory.rssPeak = Math.max(memory.rssPeak, usage.rss);
    memory.heapUsedPeak = Math.max(memory.heapUsedPeak, usage.heapUsed);
    memory.heapTotalPeak = Math.max(memory.heapTotalPeak, usage.heapTotal);
    memory.rssSum += usage.rss;
    memory.samples++;
  }, 250);
  const rssAtStart = process.memoryUsage().rss;

  let summary: SimulationSummary;
  let published: Map<string, number>;
  let deliveredAfterMs: number | undefined;
  let publishEndedAt: number;
  try {
    const devices = simulatedDevices(args.devices, { types: args.types }).map(toRegistryDevice);
    await registerDevicesOverHttp(`http://${config.host}:${config.httpPort}`, devices);

    const out = path.join(dataDir, "publisher");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(import.meta.url),
        "--role",
        "publisher",
        "--mqtt",
        `mqtt://${config.host}:${config.mqttPort}`,
        "--out",
        out,
        "--rate",
        String(args.rate),
        "--clients",
        String(args.clients),
        "--duration",
        String(args.duration),
        "--devices",
        String(args.devices),
        "--types",
        args.types.join(","),
        "--seed",
        String(args.seed),
        "--qos",
        String(args.qos),
      ],
      { cwd: path.resolve(here, ".."), stdio: ["ignore", "inherit", "inherit"] },
    );
    const exitCode = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    if (exitCode !== 0) throw new Error(`publisher exited with ${exitCode}`);
    publishEndedAt = Date.now();
    summary = JSON.parse(fs.readFileSync(`${out}.summary.json`, "utf8")) as SimulationSummary;
    published = new Map();
    for (const line of fs.readFileSync(`${out}.published.tsv`, "utf8").split("\n")) {
      if (line === "") continue;
      const [key, at] = line.split("\t");
      published.set(key, Number(at));
    }
    process.stderr.write(
      `published ${summary.sent}/${summary.attempted} in ${(summary.publishMs / 1000).toFixed(1)} s; waiting for the lake…\n`,
    );

    // Wait until the runtime has put as many records in the lake as were sent (the buffer interval, at most).
    const deadline = Date.now() + (config.firehoseBufferSeconds + 120) * 1000;
    while (Date.now() < deadline) {
      if (status.get("lake.readings") + status.get("lake.errors") >= summary.attempted) {
        deliveredAfterMs = Date.now() - publishEndedAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    clearInterval(sampler);
  }
  const loadAtEnd = os.loadavg();
  // Stopping flushes what is still buffered (Firehose; scoring windows if the scoring service runs).
  const stopBegan = performance.now();
  await runtime.stop();
  const stopMs = performance.now() - stopBegan;
  const vmHwm = peakRssFromProc();
  const activeAfterStop = process.getActiveResourcesInfo().filter((name) => name !== "TTYWrap");

  // Count every record in the lake.
  const lakeDir = path.join(config.dataDir, "lake");
  const found = new Map<string, number>();
  const latencies: number[] = [];
  let readingRecords = 0;
  let errorRecords = 0;
  let unmatchedErrors = 0;
  const errorCodes = new Map<string, number>();
  const note = (key: string | undefined, writtenAt: number) => {
    if (key === undefined) return false;
    found.set(key, (found.get(key) ?? 0) + 1);
    const at = published.get(key);
    if (at !== undefined && found.get(key) === 1) latencies.push(writtenAt - at);
    return true;
  };
  for (const file of listObjects(path.join(lakeDir, "readings"))) {
    const writtenAt = fs.statSync(file).mtimeMs;
    for (const line of zlib.gunzipSync(fs.readFileSync(file)).toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      readingRecords++;
      note(keyOfReading(JSON.parse(line)), writtenAt);
    }
  }
  for (const file of listObjects(path.join(lakeDir, "errors"))) {
    const writtenAt = fs.statSync(file).mtimeMs;
    for (const line of zlib.gunzipSync(fs.readFileSync(file)).toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      errorRecords++;
      const record = JSON.parse(line) as { code?: string; topic?: string; payload?: Record<string, unknown> };
      errorCodes.set(record.code ?? "?", (errorCodes.get(record.code ?? "?") ?? 0) + 1);
      const matched =
        record.topic && record.payload ? note(keyOfPayload(record.topic, record.payload), writtenAt) : false;
      if (!matched) unmatchedErrors++;
    }
  }
  let lost = 0;
  for (const key of published.keys()) if (!found.has(key)) lost++;
  let duplicates = 0;
  let unexpected = 0;
  for (const [key, count] of found) {
    if (count > 1) duplicates += count - 1;
    if (!published.has(key)) unexpected++;
  }
  const accounted = published.size - lost;
  latencies.sort((a, b) => a - b);

  const result = {
    benchmark: "local-ingest",
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
    },
    config: {
      rate: args.rate,
      clients: args.clients,
      devices: args.devices,
      durationSeconds: args.duration,
      types: args.types,
      qos: args.qos,
      seed: args.seed,
      firehoseBufferSeconds: config.firehoseBufferSeconds,
      firehoseBufferBytes: config.firehoseBufferBytes,
    },
    publisher: {
      planned: summary.plan.total,
      sent: summary.sent,
      failed: summary.failed,
      achievedRate: summary.achievedRate,
      publishSeconds: summary.publishMs / 1000,
      maxLagMs: summary.maxLagMs,
      uniqueKeys: published.size,
    },
    lake: {
      readingRecords,
      errorRecords,
      errorCodes: Object.fromEntries(errorCodes),
      unmatchedErrors,
      accounted,
      lost,
      duplicates,
      unexpected,
      deliveredAfterPublishSeconds: deliveredAfterMs === undefined ? null : deliveredAfterMs / 1000,
    },
    endToEndSeconds: {
      p50: percentile(latencies, 50) / 1000,
      p99: percentile(latencies, 99) / 1000,
      max: latencies.length ? latencies[latencies.length - 1] / 1000 : Number.NaN,
    },
    runtimeMemoryMB: {
      rssAtStart: mb(rssAtStart),
      rssPeakSampled: mb(memory.rssPeak),
      rssPeakVmHWM: vmHwm === undefined ? null : mb(vmHwm),
      rssMean: memory.samples ? mb(memory.rssSum / memory.samples) : null,
      heapUsedPeak: mb(memory.heapUsedPeak),
      heapTotalPeak: mb(memory.heapTotalPeak),
    },
    phasesSeconds: { startup: startupMs / 1000, stopAndFlush: stopMs / 1000 },
    /** 1-minute load average of the machine (2 cores, shared with other work) before and after publishing. */
    loadAverage: { start: loadAtStart[0], end: loadAtEnd[0] },
    /** The runtime's counters at the end: which services ran (scoring.* when the scoring service is wired in). */
    runtimeStatus: status.snapshot(),
    /** Handles still open right after `runtime.stop()` (timers keep the process alive). */
    activeResourcesAfterStop: summarize(activeAfterStop),
    dataDir,
  };

  const rows: [string, string][] = [
    [
      "target",
      `${args.rate} msg/s × ${args.duration} s, ${args.clients} clients, ${args.devices} devices, QoS ${args.qos}`,
    ],
    ["sent (acknowledged)", `${summary.sent} of ${summary.plan.total} (${summary.failed} failed)`],
    [
      "achieved publish rate",
      `${summary.achievedRate.toFixed(1)} msg/s (max lag ${summary.maxLagMs.toFixed(0)} ms)`,
    ],
    ["lake records", `${readingRecords} readings + ${errorRecords} errors`],
    ["accounted", `${accounted} of ${published.size}`],
    ["lost", String(lost)],
    ["duplicates", String(duplicates)],
    ["unexpected records", String(unexpected + unmatchedErrors)],
    [
      "all in lake after publish",
      deliveredAfterMs === undefined
        ? "timed out"
        : `${(deliveredAfterMs / 1000).toFixed(1)} s (buffer ${config.firehoseBufferSeconds} s)`,
    ],
    [
      "end-to-end publish→lake",
      `p50 ${result.endToEndSeconds.p50.toFixed(1)} s, p99 ${result.endToEndSeconds.p99.toFixed(1)} s, max ${result.endToEndSeconds.max.toFixed(1)} s`,
    ],
    [
      "runtime RSS",
      `start ${mb(rssAtStart).toFixed(0)} MB, peak ${mb(memory.rssPeak).toFixed(0)} MB` +
        (vmHwm ? ` (VmHWM ${mb(vmHwm).toFixed(0)} MB)` : ""),
    ],
    [
      "runtime heap used peak",
      `${mb(memory.heapUsedPeak).toFixed(0)} MB (heap total ${mb(memory.heapTotalPeak).toFixed(0)} MB)`,
    ],
    ["runtime startup / stop+flush", `${(startupMs / 1000).toFixed(1)} s / ${(stopMs / 1000).toFixed(1)} s`],
    [
      "scored by local mode",
      status.get("scoring.records") > 0 ? String(status.get("scoring.records")) : "(scoring not running)",
    ],
    [
      "load average (1 min)",
      `${loadAtStart[0].toFixed(1)} → ${loadAtEnd[0].toFixed(1)} on ${os.cpus().length} cores`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(
    `\nlocal-ingest\n${rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join("\n")}\n`,
  );
  const resultsDir = path.join(here, "results");
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, "local-ingest.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwrote bench/results/local-ingest.json\n`);
  if (lost > 0) process.exitCode = 1;
  else fs.rmSync(dataDir, { recursive: true, force: true });
  const leftOver = process.getActiveResourcesInfo().filter((name) => name !== "TTYWrap");
  if (leftOver.length > 0) {
    process.stderr.write(
      `note: the stopped runtime left active resources (${summarize(leftOver)}); exiting anyway\n`,
    );
  }
  process.exit();
}

function summarize(names: string[]): string {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count} ${name}`).join(", ");
}

const args = parseArgs(process.argv.slice(2));
(args.role === "publisher" ? publisher(args) : bench(args)).catch((error: Error) => {
  process.stderr.write(`local-ingest: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
