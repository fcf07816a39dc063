/**
 * Local end-to-end scoring benchmark (issue 4, "Performance"): the simulator publishes 1,000 messages/s for 60 s
 * through local mode; every reading must be scored and aggregated (zero loss); latency from publish to score.
 *
 *   npx tsx bench/local-e2e.ts [--rate 1000] [--duration 60] [--devices 200] [--window 10] [--clients N]
 *                              [--out bench/results/local-e2e.json] [--cpu-prof DIR] [--shards N]
 *                              [--scoring-workers N] [--train-seconds 0] [--train-rate RATE]
 *
 * `--clients`: MQTT connections the devices share (the simulator's default: one per device, at most 100); issue 13's
 * Large run is `--rate 5000 --duration 300 --devices 500 --clients 500`.
 *
 * Method: `driftwatch start` runs as a CHILD process (as `npm start` does: temp DATA_DIR, free ports, tumbling
 * window `--window` seconds so the last windows close soon after publishing). The simulator (`driftwatch simulate
 * --register --json`, another child process, QoS 1, all four device types, spikes injected) publishes. Afterwards
 * the benchmark waits until the scores archive (`lake/scores/`, one line per scored record) holds as many distinct
 * records (shard + sequence number) as were sent, then one more window, and reads the stored aggregates of every
 * device through `GET /api/metrics`. Zero loss means: scored = sent, and the aggregates' counts add up to the
 * number of (record, metric) pairs scored. Latency = scoring end (arrival in the stream + the handler's
 * `latencyMs`) − broker receive time (`receivedAt`), per record. Prints a table, writes
 * `bench/results/local-e2e.json` (or `--out`); figures in docs/benchmarks/scoring.md and docs/cost.md.
 *
 * `--train-seconds T` (issue 13, ninth session): before the measured run, the same devices publish for T seconds at
 * `--train-rate` (default `--rate`) into the same local mode, and the benchmark waits until all of it is scored. The
 * measured run then starts on a stage whose models have learned (a stage that has been running, as in production,
 * where a model key lives for months), instead of on a fresh one whose forests are all filling up at once. The
 * training phase's own figures (sent, lost, latency) are printed and written beside the measured run's (`training`);
 * loss and aggregates are checked over both; latency, CPU and growth are the measured run's.
 *
 * CPU: user + system CPU-seconds of the local-mode process (all its threads) and of the simulator, read from
 * `/proc/<pid>/stat` (Linux), and the local mode's CPU-seconds per message — the figure to compare between runs
 * on a shared machine (the 1-minute load average at start and end is printed beside it).
 *
 * Memory (issue 13): local mode runs with `DRIFTWATCH_MEMORY_PROBE` (every thread appends its V8 heap to a file every
 * 10 s); the result has each thread's heap over time (`heapByThread`) and the growth while publishing (`growth`:
 * least-squares slopes from 20 s to the end of publishing of RSS and of each thread's heap used / total, in bytes per
 * message sent). `--cpu-prof DIR` starts
 * local mode with `node --cpu-prof --cpu-prof-dir DIR` (one `.cpuprofile` per thread, written when it stops).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const cli = path.join(repoRoot, "packages/local/bin/driftwatch.js");

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const RATE = arg("rate", 1000);
const DURATION = arg("duration", 60);
const DEVICES = arg("devices", 200);
const WINDOW = arg("window", 10);
const CLIENTS = arg("clients", 0);
function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
// Local mode's telemetry stream shards and scoring worker threads (DRIFTWATCH_KINESIS_SHARDS /
// DRIFTWATCH_SCORING_WORKERS; unset: local mode's defaults, 1 shard and CPUs − 1 workers).
const SHARDS = stringArg("shards");
const SCORING_WORKERS = stringArg("scoring-workers");
const OUT = path.resolve(stringArg("out") ?? path.join(here, "results", "local-e2e.json"));
const CPU_PROF = stringArg("cpu-prof");
const TRAIN_SECONDS = arg("train-seconds", 0);
const TRAIN_RATE = arg("train-rate", RATE);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-e2e-"));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DRIFTWATCH_DATA_DIR: dataDir,
  MQTT_PORT: "0",
  HTTP_PORT: "0",
  DRIFTWATCH_WINDOW_SECONDS: String(WINDOW),
  DRIFTWATCH_FIREHOSE_BUFFER_SECONDS: "10",
  NODE_ENV: "production",
  // Every thread's V8 heap every 10 s (packages/local/src/runtime/memory-probe.ts): what grows, per thread.
  DRIFTWATCH_MEMORY_PROBE: path.join(dataDir, "memory-probe.ndjson"),
  DRIFTWATCH_MEMORY_PROBE_MS: "10000",
  ...(SHARDS ? { DRIFTWATCH_KINESIS_SHARDS: SHARDS } : {}),
  ...(SCORING_WORKERS ? { DRIFTWATCH_SCORING_WORKERS: SCORING_WORKERS } : {}),
};

async function startInstance(): Promise<{
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  output: () => string;
}> {
  const profile = CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", path.resolve(CPU_PROF)] : [];
  const child = spawn(process.execPath, [...profile, cli, "start", "--quiet"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 90_000;
  while (!/Ctrl-C stops/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`local mode did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    mqttPort: Number(/mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]),
    httpPort: Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]),
    output: () => output,
  };
}

/** User + system CPU-seconds of a process so far (all threads), from /proc; 0 where there is no /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "(comm) state".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
/**
 * CPU-seconds per thread of a process (Linux: /proc/<pid>/task/<tid>/stat), keyed by thread id. Node does not name
 * its worker threads, so the main thread is the one whose id is the pid and the workers are told apart by start
 * order (lower id = started first: the scoring worker starts before the MQTT broker's worker).
 */
function threadCpuSeconds(pid: number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // not Linux, or exited
  }
  return out;
}
const load1 = () => Number(os.loadavg()[0].toFixed(2));

function run(
  args: string[],
  onCpu?: (seconds: number) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = onCpu ? setInterval(() => onCpu(cpuSeconds(child.pid)), 500) : undefined;
    child.once("exit", (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the benchmark keeps of a scored record (millions of them: the parsed lines would not fit the heap). */
interface Scored {
  deviceId: string;
  /** Broker receive time (ms). */
  receivedMs: number;
  /** Publish → score latency (ms): arrival in the stream + the handler's `latencyMs` − broker receive time. */
  latencyMs: number;
  /** Metrics of the reading (what its aggregates count). */
  metricCount: number;
}

/** Scores archive objects already read (each is written once, atomically): only new ones are read at a poll. */
const scoreFiles = new Map<string, [string, Scored][]>();
const deviceIds = new Map<string, string>();

function readScores(): Map<string, Scored> {
  const dir = path.join(dataDir, "lake", "scores");
  const out = new Map<string, Scored>();
  if (!fs.existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".gz")) {
        let rows = scoreFiles.get(full);
        if (!rows) {
          rows = [];
          for (const line of zlib.gunzipSync(fs.readFileSync(full)).toString("utf8").split("\n")) {
            if (!line) continue;
            const r = JSON.parse(line) as {
              deviceId: string;
              shardId: string;
              sequenceNumber: string;
              receivedAt: string;
              arrivedAt: string;
              latencyMs: number;
              metrics: Record<string, number>;
            };
            let deviceId = deviceIds.get(r.deviceId);
            if (deviceId === undefined) deviceIds.set(r.deviceId, (deviceId = r.deviceId));
            const receivedMs = Date.parse(r.receivedAt);
            rows.push([
              `${r.shardId}|${r.sequenceNumber}`,
              {
                deviceId,
                receivedMs,
                latencyMs: Date.parse(r.arrivedAt) + r.latencyMs - receivedMs,
                metricCount: Object.keys(r.metrics).length,
              },
            ]);
          }
          scoreFiles.set(full, rows);
        }
        for (const [key, scored] of rows) out.set(key, scored);
      }
    }
  };
  walk(dir);
  return out;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * The memory probe's lines by thread (main, broker-worker, score-worker#N, dynalite-worker): heap used / total MiB
 * at each probe, seconds since the first publish.
 */
function heapByThread(
  since: number,
): Record<string, { second: number; usedMiB: number; totalMiB: number }[]> {
  const out: Record<string, { second: number; usedMiB: number; totalMiB: number }[]> = {};
  const file = env.DRIFTWATCH_MEMORY_PROBE!;
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    const row = JSON.parse(line) as { at: number; thread: string; heapUsedMiB: number; heapTotalMiB: number };
    const name = row.thread.startsWith("score-worker") ? row.thread : row.thread.replace(/#\d+$/, "");
    (out[name] ??= []).push({
      second: Math.round((row.at - since) / 1000),
      usedMiB: row.heapUsedMiB,
      totalMiB: row.heapTotalMiB,
    });
  }
  return out;
}

/** Least-squares slope of `y` over `x` (per unit of x); NaN with fewer than 3 points. */
function slope(points: [number, number][]): number {
  if (points.length < 3) return NaN;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxy / sxx;
}

let keepDataDir = false;
const loadAtStart = load1();
const instance = await startInstance();
let cpuAtStart = cpuSeconds(instance.child.pid);
let threadsAtStart = threadCpuSeconds(instance.child.pid);
let simulatorCpu = 0;
let peakRssMiB = 0;
// The operator API is authenticated (docs/api.md): a viewer token signed with this instance's local key.
const token = await run(["token", "--role", "viewer", "--user", "bench"]);
if (token.code !== 0) throw new Error(`token failed: ${token.stderr}`);
const authorization = `Bearer ${token.stdout.trim()}`;
/** Every 10 s: RSS and the status board's counters — which stage falls behind, what grows (issue 13). */
const TIMELINE_COUNTERS = [
  "kinesis.records",
  "scoring.records",
  "lake.streamRecords",
  "scoring.anomalies",
  "escalation.incidents",
  "escalation.notifications",
] as const;
const timeline: ({ second: number; rssMiB: number } & Record<string, number>)[] = [];
const timelineStarted = Date.now();
const timelineTimer = setInterval(() => {
  void (async () => {
    try {
      // node:http without keep-alive: a pooled fetch socket left idle here is closed by the server after 5 s and
      // would then fail the next fetch that reuses it.
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.get(
          `http://127.0.0.1:${instance.httpPort}/api/status`,
          { headers: { authorization }, agent: false },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () =>
              res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode}`)),
            );
          },
        );
        req.on("error", reject);
      });
      const counters = (JSON.parse(body) as { counters: Record<string, number | string> }).counters;
      const status = fs.readFileSync(`/proc/${instance.child.pid}/status`, "utf8");
      const row: { second: number; rssMiB: number } & Record<string, number> = {
        second: Math.round((Date.now() - timelineStarted) / 1000),
        rssMiB: Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024),
      };
      for (const name of TIMELINE_COUNTERS) row[name] = Number(counters[name] ?? 0);
      timeline.push(row);
    } catch {
      // not Linux, exited, or the API busy: a gap in the timeline
    }
  })();
}, 10_000);
const rssTimer = setInterval(() => {
  try {
    const status = fs.readFileSync(`/proc/${instance.child.pid}/status`, "utf8");
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    peakRssMiB = Math.max(peakRssMiB, hwm);
  } catch {
    // not Linux, or exited
  }
}, 1000);
try {
  process.stderr.write(`local mode up (MQTT ${instance.mqttPort}, HTTP ${instance.httpPort})\n`);
  /** The simulator (QoS 1, the benchmark's devices, spikes injected) at `rate` for `seconds`; its summary. */
  const publish = async (rate: number, seconds: number) => {
    const sim = await run(
      [
        "simulate",
        "--rate",
        String(rate),
        "--duration",
        String(seconds),
        "--devices",
        String(DEVICES),
        "--mqtt",
        `mqtt://127.0.0.1:${instance.mqttPort}`,
        "--register",
        "--http",
        `http://127.0.0.1:${instance.httpPort}`,
        "--anomalies",
        "spike",
        "--anomaly-rate",
        "0.001",
        "--json",
        "--no-progress",
        "--qos",
        "1",
        ...(CLIENTS > 0 ? ["--clients", String(CLIENTS)] : []),
      ],
      (cpu) => (simulatorCpu = Math.max(simulatorCpu, cpu)),
    );
    if (sim.code !== 0) throw new Error(`simulate failed: ${sim.stderr}`);
    return JSON.parse(sim.stdout.slice(sim.stdout.indexOf("{"))) as {
      sent: number;
      failed: number;
      achievedRate: number;
    };
  };
  /**
   * Waits until the scores archive holds `count` distinct records, or holds no more than 20 s ago (a reading the
   * scorer skipped as a resend is never archived: `lost` then says so), or `timeoutMs` passed.
   */
  const scoredUpTo = async (count: number, timeoutMs: number) => {
    const since = Date.now();
    let scores = readScores();
    let grew = Date.now();
    while (scores.size < count && Date.now() - since < timeoutMs && Date.now() - grew < 20_000) {
      await new Promise((r) => setTimeout(r, 2_000));
      const size = scores.size;
      scores = readScores();
      if (scores.size > size) grew = Date.now();
    }
    return scores;
  };
  let training:
    | {
        seconds: number;
        rate: number;
        sent: number;
        achievedRate: number;
        scored: number;
        latencyMs: { p50: number; p99: number };
        drainAfterPublishMs: number;
      }
    | undefined;
  let trained = new Set<string>();
  if (TRAIN_SECONDS > 0) {
    process.stderr.write(`training: ${TRAIN_RATE} msg/s for ${TRAIN_SECONDS} s…\n`);
    const trainSummary = await publish(TRAIN_RATE, TRAIN_SECONDS);
    const trainPublished = Date.now();
    const trainScores = await scoredUpTo(trainSummary.sent, 600_000);
    const trainLatencies = [...trainScores.values()].map((s) => s.latencyMs);
    training = {
      seconds: TRAIN_SECONDS,
      rate: TRAIN_RATE,
      sent: trainSummary.sent,
      achievedRate: Math.round(trainSummary.achievedRate),
      scored: trainScores.size,
      latencyMs: { p50: pct(trainLatencies, 50), p99: pct(trainLatencies, 99) },
      drainAfterPublishMs: Date.now() - trainPublished,
    };
    trained = new Set(trainScores.keys());
    process.stderr.write(
      `training: sent ${training.sent}, scored ${training.scored}, p50/p99 ${training.latencyMs.p50}/${training.latencyMs.p99} ms\n`,
    );
    // The measured run's CPU counts from here.
    cpuAtStart = cpuSeconds(instance.child.pid);
    threadsAtStart = threadCpuSeconds(instance.child.pid);
    simulatorCpu = 0;
  }
  process.stderr.write(`publishing ${RATE} msg/s for ${DURATION} s…\n`);
  const publishStarted = Date.now();
  const summary = await publish(RATE, DURATION);
  process.stderr.write(
    `sent ${summary.sent} (${summary.achievedRate.toFixed(0)} msg/s); waiting for scoring…\n`,
  );

  const publishedAt = Date.now();
  const expected = summary.sent + (training?.sent ?? 0);
  // A training record the scorer skipped as a resend is not waited for again.
  let scores = await scoredUpTo(summary.sent + (training?.scored ?? 0), 180_000);
  const drainMs = Date.now() - publishedAt;
  const localCpu = cpuSeconds(instance.child.pid) - cpuAtStart;
  const threadCpu = [...threadCpuSeconds(instance.child.pid)]
    .map(([tid, seconds]) => ({
      tid,
      main: tid === instance.child.pid,
      seconds: seconds - (threadsAtStart.get(tid) ?? 0),
    }))
    .filter((t) => t.seconds >= 0.5)
    .sort((a, b) => a.tid - b.tid);
  const wallSeconds = (Date.now() - publishStarted) / 1000;
  await new Promise((r) => setTimeout(r, (WINDOW + 3) * 1000)); // the last window closes and writes its aggregates
  scores = readScores();

  const devices = [...new Set([...scores.values()].map((s) => s.deviceId))];
  clearInterval(timelineTimer);
  let aggregated = 0;
  for (const deviceId of devices) {
    const res = await fetch(
      `http://127.0.0.1:${instance.httpPort}/api/devices/${encodeURIComponent(deviceId)}/metrics`,
      { headers: { authorization } },
    );
    if (res.status !== 200)
      throw new Error(`GET metrics of ${deviceId}: HTTP ${res.status} ${await res.text()}`);
    for (const row of (await res.json()) as { count: number }[]) aggregated += row.count;
  }
  // The status board's counters (the slowest scoring invocations, final and not).
  const statusRes = await fetch(`http://127.0.0.1:${instance.httpPort}/api/status`, {
    headers: { authorization },
  });
  const counters =
    statusRes.status === 200
      ? ((await statusRes.json()) as { counters: Record<string, number | string> }).counters
      : {};
  const expectedPairs = [...scores.values()].reduce((a, s) => a + s.metricCount, 0);
  // Latency of the measured run's records (not the training phase's).
  const measuredScores = [...scores.entries()].filter(([key]) => !trained.has(key)).map(([, s]) => s);
  const latencies = measuredScores.map((s) => s.latencyMs);
  // p50 / p99 per 10 s of publishing (by broker receive time): where in the run the slow records were.
  const t0 = measuredScores.reduce((a, s) => Math.min(a, s.receivedMs), Infinity);
  const buckets = new Map<number, number[]>();
  for (const s of measuredScores) {
    const b = Math.floor((s.receivedMs - t0) / 10_000);
    let list = buckets.get(b);
    if (!list) buckets.set(b, (list = []));
    list.push(s.latencyMs);
  }
  const latencyBy10s = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, list]) => ({
      fromSecond: b * 10,
      records: list.length,
      p50: pct(list, 50),
      p99: pct(list, 99),
    }));
  // Growth while publishing (issue 13): slopes over the samples from 20 s (after the cold start) to the end of
  // publishing, in bytes per message sent — RSS from the timeline, heap used and heap total per thread from the probe.
  const publishSeconds = (publishedAt - publishStarted) / 1000;
  const timelineOffset = (publishStarted - timelineStarted) / 1000;
  const inPublishing = (second: number) => second >= 20 && second <= publishSeconds;
  const perMessage = (mibPerSecond: number) => Math.round((mibPerSecond * 1_048_576) / RATE);
  const heaps = heapByThread(publishStarted);
  const growth = {
    fromSecond: 20,
    toSecond: Math.round(publishSeconds),
    rssBytesPerMessage: perMessage(
      slope(
        timeline
          .map((r) => [r.second - timelineOffset, r.rssMiB] as [number, number])
          .filter(([second]) => inPublishing(second)),
      ),
    ),
    heapByThread: Object.fromEntries(
      Object.entries(heaps).map(([thread, rows]) => {
        const window = rows.filter((r) => inPublishing(r.second));
        return [
          thread,
          {
            usedBytesPerMessage: perMessage(slope(window.map((r) => [r.second, r.usedMiB]))),
            totalBytesPerMessage: perMessage(slope(window.map((r) => [r.second, r.totalMiB]))),
            peakTotalMiB: Math.round(rows.reduce((a, r) => Math.max(a, r.totalMiB), 0)),
          },
        ];
      }),
    ),
  };
  // Readings the scorer skipped as resends of one it already scored (ADR 0203: same readingId = same topic and
  // bytes, another record). The simulator's medical devices stamp whole seconds, so two readings of one device in
  // the same second with the same values make such a pair (compare with `lost`).
  const logFile = path.join(dataDir, "logs", "local.log");
  const duplicatesSkipped = fs.existsSync(logFile)
    ? (fs.readFileSync(logFile, "utf8").match(/DUPLICATE_READING/g) ?? []).length
    : 0;
  const dlq = fs.existsSync(path.join(dataDir, "dlq")) ? fs.readdirSync(path.join(dataDir, "dlq")).length : 0;

  const result = {
    config: {
      rate: RATE,
      durationSeconds: DURATION,
      devices: DEVICES,
      windowSeconds: WINDOW,
      clients: CLIENTS || Math.min(DEVICES, 100),
      machineCpus: os.cpus().length,
      // Local-mode settings from the environment that change what runs where (unset: the defaults).
      env: Object.fromEntries(
        [
          "DRIFTWATCH_KINESIS_SHARDS",
          "DRIFTWATCH_SCORING_WORKERS",
          "DRIFTWATCH_SCORING_BATCH_SIZE",
          "DRIFTWATCH_SCORING_THREAD",
          "DRIFTWATCH_DYNALITE_THREAD",
          "DRIFTWATCH_LAKE_FEED",
          "DRIFTWATCH_LAMBDA_HEAP",
          "DRIFTWATCH_HEAP_GROWING_PERCENT",
          "NODE_OPTIONS",
        ]
          .filter((name) => env[name] !== undefined)
          .map((name) => [name, env[name]]),
      ),
      node: process.version,
    },
    training,
    sent: summary.sent,
    publishFailed: summary.failed,
    achievedRate: Math.round(summary.achievedRate),
    scored: scores.size - trained.size,
    // Training and measured run together: every message sent must be in the scores archive.
    lost: expected - scores.size,
    aggregatedMetricValues: aggregated,
    expectedMetricValues: expectedPairs,
    aggregatesMatch: aggregated === expectedPairs,
    dlqEntries: dlq,
    duplicatesSkipped,
    latencyMs: {
      p50: pct(latencies, 50),
      p90: pct(latencies, 90),
      p99: pct(latencies, 99),
      // A loop, not Math.max(...latencies): 180,000+ arguments overflow the stack.
      max: latencies.reduce((a, b) => Math.max(a, b), -Infinity),
    },
    latencyBy10sMs: latencyBy10s,
    timeline,
    heapByThread: heaps,
    growth,
    drainAfterPublishMs: drainMs,
    slowestInvocationMs: {
      scoring: Number(counters["scoring.invokeMaxMs"] ?? NaN),
      scoringFinal: Number(counters["scoring.finalInvokeMaxMs"] ?? NaN),
    },
    peakRssMiB: Math.round(peakRssMiB),
    cpu: {
      // From the first publish until everything was scored (before the final window wait).
      localModeSeconds: Number(localCpu.toFixed(1)),
      localModeCores: Number((localCpu / wallSeconds).toFixed(2)),
      localModeMicrosPerMessage: Math.round((localCpu * 1e6) / Math.max(1, summary.sent)),
      simulatorSeconds: Number(simulatorCpu.toFixed(1)),
      // Threads with ≥ 0.5 CPU-s over the same span, in start order (main first; then the workers and V8/libuv
      // helpers), each with its share of one core.
      threads: threadCpu.map((t) => ({
        thread: t.main ? "main" : `tid ${t.tid}`,
        seconds: Number(t.seconds.toFixed(1)),
        cores: Number((t.seconds / wallSeconds).toFixed(2)),
      })),
    },
    loadAverage1m: { start: loadAtStart, end: load1() },
  };
  const rows: [string, string][] = [
    ...(training
      ? ([
          [
            "training phase (not measured)",
            `${training.sent} sent at ${training.achievedRate} msg/s for ${training.seconds} s, ${training.scored} scored,` +
              ` p50 / p99 ${training.latencyMs.p50} / ${training.latencyMs.p99} ms`,
          ],
        ] as [string, string][])
      : []),
    ["sent (QoS 1 acknowledged)", `${result.sent} at ${result.achievedRate} msg/s`],
    ["scored (distinct records in lake/scores)", String(result.scored)],
    [training ? "lost (training and measured run)" : "lost", String(result.lost)],
    [
      "aggregated metric values / expected",
      `${result.aggregatedMetricValues} / ${result.expectedMetricValues} (${result.aggregatesMatch ? "match" : "MISMATCH"})`,
    ],
    ["on-failure destination entries", String(result.dlqEntries)],
    ["skipped by the scorer as resends (DUPLICATE_READING)", String(result.duplicatesSkipped)],
    [
      "publish → score latency p50 / p90 / p99",
      `${result.latencyMs.p50} / ${result.latencyMs.p90} / ${result.latencyMs.p99} ms (max ${result.latencyMs.max})`,
    ],
    [
      "p50 / p99 per 10 s of publishing",
      result.latencyBy10sMs.map((b) => `${b.p50}/${b.p99}`).join("  ") + " ms",
    ],
    [
      "every 10 s: RSS MiB, stream / scored / lake backlog",
      timeline
        .map(
          (r) =>
            `${r.rssMiB}:${r["kinesis.records"] - r["scoring.records"]}/${r["kinesis.records"] - r["lake.streamRecords"]}`,
        )
        .join(" "),
    ],
    [
      "growth 20 s → end of publishing, bytes/message",
      `RSS ${growth.rssBytesPerMessage}; heap total (used) ` +
        Object.entries(growth.heapByThread)
          .map(([t, g]) => `${t} ${g.totalBytesPerMessage} (${g.usedBytesPerMessage})`)
          .join(", "),
    ],
    [
      "peak heap total per thread (MiB)",
      Object.entries(growth.heapByThread)
        .map(([t, g]) => `${t} ${g.peakTotalMiB}`)
        .join(", "),
    ],
    ["scored all after publishing ended", `${(drainMs / 1000).toFixed(1)} s`],
    [
      "slowest scoring invocation / final invoke",
      `${result.slowestInvocationMs.scoring} / ${result.slowestInvocationMs.scoringFinal} ms`,
    ],
    ["peak RSS of local mode", `${result.peakRssMiB} MiB`],
    [
      "CPU of local mode (publish → scored)",
      `${result.cpu.localModeSeconds} s = ${result.cpu.localModeCores} cores, ${result.cpu.localModeMicrosPerMessage} µs per message`,
    ],
    [
      "CPU per thread (cores)",
      result.cpu.threads.map((t) => `${t.thread} ${t.seconds} s (${t.cores})`).join(", "),
    ],
    ["CPU of the simulator", `${result.cpu.simulatorSeconds} s`],
    ["load average (1 min) at start / end", `${result.loadAverage1m.start} / ${result.loadAverage1m.end}`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(
    `Local end-to-end scoring (${RATE} msg/s × ${DURATION} s, ${DEVICES} devices, window ${WINDOW} s` +
      `${training ? `, after ${training.seconds} s of training at ${training.rate} msg/s` : ""})\n`,
  );
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${path.relative(process.cwd(), OUT)}\n`);
  keepDataDir = result.lost !== 0;
} finally {
  clearInterval(rssTimer);
  clearInterval(timelineTimer);
  instance.child.kill("SIGINT");
  await new Promise((r) => instance.child.once("exit", r));
  // Kept when something was not accounted for: its lake, logs and checkpoints are the evidence.
  if (keepDataDir) process.stderr.write(`kept ${dataDir} (lost > 0)\n`);
  else fs.rmSync(dataDir, { recursive: true, force: true });
}
