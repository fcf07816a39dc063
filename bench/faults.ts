/**
 * Fault suite of record (issue 11): runs the REAL local runtime (`driftwatch start` as a child process, as a user
 * would) through faults and counts what became of every message.
 *
 *   npm run faults -- [--messages 600] [--rate 200] [--scenarios kill9,sigterm,sigint,unwritable,poison,resend]
 *
 * Scenarios (each on a fresh data directory, fixed ports so clients reconnect to the restarted instance):
 * - `kill9`: kill -9 mid-stream at 25 %, 50 % and 75 % of the messages, restart each time;
 * - `sigterm` / `sigint`: the signal mid-stream (a graceful stop), then restart;
 * - `unwritable`: the lake's `readings/` cannot be written for `--fault-seconds` (a file stands where the
 *   directory must be; works as root too), while publishing goes on;
 * - `poison`: a burst of bad messages (40,000-deep arrays, 200 KB payload, binary, invalid JSON, PHI in unknown and
 *   near-miss fields, a PHI device id and topic, too many topic levels, a 1e200 metric) interleaved with valid ones;
 * - `resend`: the client's connection is cut mid-stream (it reconnects and resends what was not acked) and every
 *   tenth message is published a second time with the DUP flag.
 *
 * Valid messages are canonical readings `dt/faults/<device>/telemetry` with a unique event time each. Counted per
 * scenario: sent; acked (PUBACK received); in readings (distinct valid messages in `lake/readings/`); in errors
 * (records in `lake/errors/`); lost (acked valid messages not in readings, plus poison messages with no error
 * record); duplicated (reading lines beyond one per message); double-counted (window aggregate counts, from
 * `driftwatch metrics --json`, beyond one per distinct reading); PHI (corpus PHI values found in clear anywhere
 * under the data directory or in the runtime's output). Prints a table and writes `bench/results/faults.json`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import mqtt from "mqtt";
import { readLakeRecords } from "@driftwatch/local/ingest/lake-reader";
import { createZoneCipher } from "@driftwatch/local/storage/zone-cipher";
import { freePort } from "../packages/local/test/helpers/free-port.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const cliEntry = path.join(repoRoot, "packages/local/bin/driftwatch.js");
const DEVICES = ["fault-a", "fault-b", "fault-c", "fault-d"];
const PHI = ["Eugenia Gottlieb", "08/27/1977", "patient2605"];

type Scenario = "kill9" | "sigterm" | "sigint" | "unwritable" | "poison" | "resend";
const allScenarios: Scenario[] = ["kill9", "sigterm", "sigint", "unwritable", "poison", "resend"];

interface Args {
  messages: number;
  rate: number;
  faultSeconds: number;
  windowSeconds: number;
  scenarios: Scenario[];
  out: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const scenarios = (get("scenarios")?.split(",") ?? allScenarios) as Scenario[];
  for (const s of scenarios) if (!allScenarios.includes(s)) throw new Error(`unknown scenario ${s}`);
  return {
    messages: Number(get("messages") ?? 600),
    rate: Number(get("rate") ?? 200),
    faultSeconds: Number(get("fault-seconds") ?? 10),
    windowSeconds: Number(get("window-seconds") ?? 5),
    scenarios,
    out: get("out") ?? path.join(here, "results", "faults.json"),
  };
}

interface Instance {
  child: ChildProcess;
  exited: Promise<number | null>;
}

class Runtime {
  output = "";
  private current?: Instance;

  constructor(
    readonly dataDir: string,
    readonly mqttPort: number,
    readonly httpPort: number,
    private readonly windowSeconds: number,
  ) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [cliEntry, "start"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        DRIFTWATCH_DATA_DIR: this.dataDir,
        MQTT_PORT: String(this.mqttPort),
        HTTP_PORT: String(this.httpPort),
        DRIFTWATCH_FIREHOSE_BUFFER_SECONDS: "1",
        DRIFTWATCH_WINDOW_SECONDS: String(this.windowSeconds),
        NODE_ENV: "production",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const mark = this.output.length;
    child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    this.current = { child, exited };
    const deadline = Date.now() + 120_000;
    while (!/Ctrl-C stops/.test(this.output.slice(mark))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`local instance did not start:\n${this.output.slice(mark)}`);
      }
      await sleep(100);
    }
  }

  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const instance = this.current;
    if (!instance) return null;
    this.current = undefined;
    if (instance.child.exitCode === null) instance.child.kill(signal);
    return instance.exited;
  }

  cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cliEntry, ...args], {
        cwd: repoRoot,
        env: { ...process.env, HTTP_PORT: String(this.httpPort), DRIFTWATCH_DATA_DIR: this.dataDir },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      child.once("exit", (code) => resolve({ code, stdout }));
    });
  }
}

interface Message {
  key: string;
  topic: string;
  payload: Buffer;
  poison?: string;
  qos: 0 | 1;
}

const BASE_TS = Date.UTC(2026, 0, 1);

function valid(i: number): Message {
  const deviceId = DEVICES[i % DEVICES.length];
  const ts = new Date(BASE_TS + i * 10).toISOString();
  return {
    key: `${deviceId}|${ts}`,
    topic: `dt/faults/${deviceId}/telemetry`,
    payload: Buffer.from(JSON.stringify({ deviceId, ts, metrics: { seq: i, level: 20 + (i % 7) } })),
    qos: 1,
  };
}

/** The poison corpus: one of each kind, PHI in unexpected places. */
function poisonCorpus(): Message[] {
  const medical = {
    timestamp: "2018-01-27T05:11:50",
    device_id: "device8401",
    temperature: 100.3,
    pulse: 108.6,
    oxygen_percent: 48.4,
    systolic: 110.2,
    diastolic: 75.6,
  };
  const items: [string, string, string | Buffer][] = [
    ["deep", "LifeSupportDevice/Sensor", `{"x":${"[".repeat(40_000)}${"]".repeat(40_000)}}`],
    ["huge", "dt/faults/fault-a/telemetry", `{"x":"${"a".repeat(200 * 1024)}"}`],
    ["binary", "IoT_TOPIC/recieve", Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80])],
    ["invalid-json", "LifeSupportDevice/Sensor", '{"device_id":"device8401","name":"Eugenia Gottlieb",'],
    [
      "phi-free-text",
      "LifeSupportDevice/Sensor",
      JSON.stringify({ ...medical, pulse: "fast", notes: "patient Eugenia Gottlieb born 08/27/1977" }),
    ],
    [
      "phi-near-miss",
      "LifeSupportDevice/Sensor",
      JSON.stringify({
        ...medical,
        pulse: "x",
        "name ": "Eugenia Gottlieb",
        full_name: "Eugenia Gottlieb",
        DoB_: "08/27/1977",
      }),
    ],
    [
      "phi-device-id",
      "LifeSupportDevice/Sensor",
      JSON.stringify({ ...medical, device_id: "Eugenia Gottlieb" }),
    ],
    [
      "phi-topic",
      "patients/Eugenia Gottlieb/08/27/1977/vitals",
      JSON.stringify({ patient_id: "patient2605" }),
    ],
    ["levels", "a/b/c/d/e/f/g/h/i/j", "{}"],
    [
      "huge-metric",
      "dt/faults/fault-b/telemetry",
      JSON.stringify({ deviceId: "fault-b", ts: "2026-01-01T00:00:00Z", metrics: { v: 1e200 } }),
    ],
    [
      "phi-only-metric",
      "dt/faults/fault-c/telemetry",
      JSON.stringify({ deviceId: "fault-c", ts: "2026-01-01T00:00:01Z", metrics: { name: 1 } }),
    ],
    [
      "unknown-device",
      "dt/faults/nobody/telemetry",
      JSON.stringify({ deviceId: "nobody", ts: "2026-01-01T00:00:02Z", metrics: { v: 1 } }),
    ],
  ];
  return items.map(([kind, topic, payload]) => ({
    key: `poison|${kind}`,
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    poison: kind,
    qos: 0,
  }));
}

interface Result {
  scenario: Scenario;
  sent: number;
  acked: number;
  inReadings: number;
  inErrors: number;
  lost: number;
  duplicated: number;
  doubleCounted: number;
  phiInClear: number;
  seconds: number;
  notes: string[];
}

async function runScenario(scenario: Scenario, args: Args): Promise<Result> {
  const started = Date.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `driftwatch-faults-${scenario}-`));
  const runtime = new Runtime(dataDir, await freePort(), await freePort(), args.windowSeconds);
  const notes: string[] = [];
  await runtime.start();
  const devicesFile = path.join(dataDir, "..", `${path.basename(dataDir)}-devices.json`);
  fs.writeFileSync(
    devicesFile,
    JSON.stringify(DEVICES.map((deviceId) => ({ deviceId, manufacturer: "faults", model: "m1" }))),
  );
  const imported = await runtime.cli(["devices", "import", devicesFile]);
  if (imported.code !== 0) throw new Error(`devices import failed: ${imported.stdout}`);

  const messages: Message[] = Array.from({ length: args.messages }, (_, i) => valid(i));
  if (scenario === "poison") {
    const corpus = poisonCorpus();
    const step = Math.max(1, Math.floor(messages.length / (corpus.length + 1)));
    corpus.forEach((m, k) => messages.splice((k + 1) * step + k, 0, m));
  }
  const client = mqtt.connect(`mqtt://127.0.0.1:${runtime.mqttPort}`, {
    protocolVersion: 4,
    clientId: `faults-${scenario}`,
    clean: false,
    reconnectPeriod: 300,
    connectTimeout: 5_000,
  });
  client.on("error", () => undefined);
  // Poison goes through its own QoS 0 client: a refused publish disconnects its sender (as AWS IoT Core does).
  const poisonClient = mqtt.connect(`mqtt://127.0.0.1:${runtime.mqttPort}`, {
    protocolVersion: 4,
    reconnectPeriod: 300,
  });
  poisonClient.on("error", () => undefined);
  poisonClient.setMaxListeners(100); // publishes queued while a refused publish has it disconnected
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));

  const acked = new Set<string>();
  const pending: Promise<void>[] = [];
  const faultAt = new Set<number>();
  if (scenario === "kill9") [0.25, 0.5, 0.75].forEach((f) => faultAt.add(Math.floor(messages.length * f)));
  if (scenario === "sigterm" || scenario === "sigint" || scenario === "unwritable" || scenario === "resend")
    faultAt.add(Math.floor(messages.length / 2));
  const intervalMs = 1000 / args.rate;
  let unwritableUntil = 0;
  const readingsDir = path.join(dataDir, "lake", "readings");

  for (let i = 0; i < messages.length; i++) {
    if (faultAt.has(i)) {
      if (scenario === "kill9" || scenario === "sigterm" || scenario === "sigint") {
        const signal = scenario === "kill9" ? "SIGKILL" : scenario === "sigterm" ? "SIGTERM" : "SIGINT";
        const code = await runtime.stop(signal);
        notes.push(`${signal} at message ${i} (exit ${code})`);
        await runtime.start();
      } else if (scenario === "unwritable") {
        fs.mkdirSync(path.join(dataDir, "lake"), { recursive: true });
        if (fs.existsSync(readingsDir)) fs.renameSync(readingsDir, `${readingsDir}.aside`);
        fs.writeFileSync(readingsDir, "not a directory");
        unwritableUntil = Date.now() + args.faultSeconds * 1000;
        notes.push(`readings/ unwritable for ${args.faultSeconds} s from message ${i}`);
      } else if (scenario === "resend") {
        (client as unknown as { stream: { destroy(): void } }).stream.destroy(); // the network drops
        notes.push(`connection cut at message ${i}`);
      }
    }
    if (unwritableUntil > 0 && Date.now() >= unwritableUntil) {
      restoreReadings(readingsDir);
      unwritableUntil = 0;
    }
    const m = messages[i];
    const target = m.poison ? poisonClient : client;
    const sent = new Promise<void>((resolve) =>
      target.publish(m.topic, m.payload, { qos: m.qos }, (error) => {
        if (!error && m.qos === 1) acked.add(m.key);
        resolve();
      }),
    );
    pending.push(m.qos === 1 ? sent : Promise.resolve());
    if (scenario === "resend" && !m.poison && i % 10 === 0)
      client.publish(m.topic, m.payload, { qos: 1, dup: true }); // a client resending the same message
    await sleep(intervalMs);
  }
  if (unwritableUntil > 0) {
    await sleep(Math.max(0, unwritableUntil - Date.now()));
    restoreReadings(readingsDir);
  }
  await withTimeout(Promise.all(pending), 120_000, () => notes.push("some publishes were never acked"));
  // Let the windows close and the waiting batches drain, then stop gracefully (flush).
  await sleep((2 * args.windowSeconds + 5) * 1000);
  await waitFor(() => !/waiting \(retrying\)/.test(lastStatusLine(runtime.output)), 60_000);
  const metrics = await Promise.all(
    DEVICES.map(async (deviceId) => {
      const { stdout } = await runtime.cli(["metrics", "--device", deviceId, "--json"]);
      try {
        return JSON.parse(stdout) as { metric: string; count: number }[];
      } catch {
        return [];
      }
    }),
  );
  client.end(true);
  poisonClient.end(true);
  await runtime.stop("SIGINT");

  const lake = path.join(dataDir, "lake");
  const cipher = createZoneCipher(path.join(dataDir, "keys"), "raw");
  const readings = readLakeRecords(lake, "readings") as { deviceId: string; ts: string }[];
  const errors = readLakeRecords(lake, "errors", cipher) as { code?: string }[];
  const found = new Map<string, number>();
  for (const r of readings) found.set(`${r.deviceId}|${r.ts}`, (found.get(`${r.deviceId}|${r.ts}`) ?? 0) + 1);
  const validMessages = messages.filter((m) => !m.poison);
  const poison = messages.filter((m) => m.poison);
  const lostValid = validMessages.filter((m) => acked.has(m.key) && !found.has(m.key)).length;
  const lostPoison = Math.max(0, poison.length - errors.length);
  const duplicated = [...found.values()].reduce((sum, n) => sum + (n - 1), 0);
  const seqCount = metrics
    .flat()
    .filter((v) => v.metric === "seq")
    .reduce((sum, v) => sum + v.count, 0);
  const distinct = validMessages.filter((m) => found.has(m.key)).length;
  const phi = countPhi(dataDir, runtime.output);
  const phiInClear = phi.length;
  if (phi.length > 0) notes.push(`PHI in clear in: ${phi.join(", ")}`);
  notes.push(`window aggregates counted ${seqCount} readings of ${distinct} distinct`);
  if (poison.length > 0) notes.push(`error codes: ${[...new Set(errors.map((e) => e.code))].join(", ")}`);
  fs.rmSync(devicesFile, { force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
  return {
    scenario,
    sent: messages.length,
    acked: acked.size + poison.length, // QoS 0 poison: no PUBACK exists; counted as handed over
    inReadings: distinct,
    inErrors: errors.length,
    lost: lostValid + lostPoison,
    duplicated,
    doubleCounted: Math.max(0, seqCount - distinct),
    phiInClear,
    seconds: Math.round((Date.now() - started) / 1000),
    notes,
  };
}

function restoreReadings(readingsDir: string): void {
  fs.rmSync(readingsDir, { force: true });
  if (fs.existsSync(`${readingsDir}.aside`)) fs.renameSync(`${readingsDir}.aside`, readingsDir);
}

function lastStatusLine(output: string): string {
  const lines = output.split(/[\r\n]/).filter((line) => line.includes("mqtt "));
  return lines.at(-1) ?? "";
}

/** Where PHI values of the corpus are found in clear: files under the data dir (gunzipped where gzip), the output. */
function countPhi(dataDir: string, output: string): string[] {
  const hits: string[] = [];
  if (PHI.some((value) => output.includes(value))) hits.push("(runtime output)");
  for (const name of fs.readdirSync(dataDir, { recursive: true }) as string[]) {
    const file = path.join(dataDir, name);
    if (!fs.statSync(file).isFile()) continue;
    let bytes = fs.readFileSync(file);
    if (name.endsWith(".gz")) {
      try {
        bytes = zlib.gunzipSync(bytes);
      } catch {
        // not gzip after all
      }
    }
    const text = bytes.toString("latin1");
    if (PHI.some((value) => text.includes(value))) hits.push(name);
  }
  return hits;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(250);
}

async function withTimeout(promise: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        onTimeout();
        resolve();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const results: Result[] = [];
  for (const scenario of args.scenarios) {
    process.stderr.write(`scenario ${scenario}…\n`);
    results.push(await runScenario(scenario, args));
  }
  const header = [
    "scenario",
    "sent",
    "acked",
    "in readings",
    "in errors",
    "lost",
    "duplicated",
    "double-counted",
    "PHI in clear",
    "s",
  ];
  const rows = results.map((r) =>
    [
      r.scenario,
      r.sent,
      r.acked,
      r.inReadings,
      r.inErrors,
      r.lost,
      r.duplicated,
      r.doubleCounted,
      r.phiInClear,
      r.seconds,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  process.stdout.write(`${line(header)}\n${rows.map(line).join("\n")}\n`);
  for (const r of results) for (const note of r.notes) process.stdout.write(`  ${r.scenario}: ${note}\n`);
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(
    args.out,
    `${JSON.stringify({ generatedAt: new Date().toISOString(), args, machine: { cpus: os.cpus().length, loadavg: os.loadavg() }, results }, null, 2)}\n`,
  );
  process.stdout.write(`→ ${path.relative(process.cwd(), args.out)}\n`);
  if (results.some((r) => r.lost > 0 || r.doubleCounted > 0 || r.phiInClear > 0)) process.exitCode = 1;
}

await main();
