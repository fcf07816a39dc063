/**
 * Benchmark: local mode's ingest path on ONE thread, as the main thread runs it, without MQTT, scoring or dynalite
 * (issue 13, eighth session): rule routing (`createRuleRouter`: topic rules, envelope, partition key) → the rule's
 * Kinesis action on the local telemetry stream (`LocalKinesisStream.putQueued`, sealed group commit, 2 shards) →
 * the stream-fed lake writer (the SAME `createLakeWriteHandler` through the `EventSourceMappingEmulator`, as
 * `ingest/stream-lake.ts` mounts it: validation, de-identification, vault, gzip, lake files under a temp dir).
 * The registry is in memory (cached as the Lambda's), the vault in memory but sealed, the token key real.
 *
 * Messages are the simulator's (500 devices of the four shapes, one per device per 100 ms of event time: the
 * bench/local-e2e.ts fleet at 5,000 msg/s), generated before timing, fed `--turn` per event-loop turn (the broker
 * worker's messages arrive a few dozen per turn at 5,000 msg/s). Measured per run, after a warm-up run: CPU
 * seconds of the process (user + system) per message, and bytes allocated on the V8 heap per message (sum of
 * what each garbage collection freed plus the heap's growth, from `v8.GCProfiler`). Runs alternate nothing: compare
 * trees by running this file in each. Prints one line per run and the medians.
 *
 *   npx tsx bench/local-ingest-path.ts [--messages 100000] [--devices 500] [--runs 5] [--turn 50] [--alloc-by-function]
 *
 * `--alloc-by-function`: one more run under V8's sampling heap profiler counting collected objects too, printing
 * the bytes allocated per message by the function that allocated them (the top 40).
 */
import fs from "node:fs";
import inspector from "node:inspector/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import { createDeidentifier, defaultPhiCatalogue } from "@driftwatch/core/privacy/deidentifier";
import { createEncryptedPhiVault } from "@driftwatch/core/privacy/encrypted-phi-vault";
import { createEnvelopeCipher } from "@driftwatch/core/privacy/envelope-cipher";
import { createLocalKeyProvider } from "@driftwatch/core/privacy/local-key-provider";
import { simulatedDevices, toRegistryDevice } from "@driftwatch/core/simulator/devices";
import { createSimulation } from "@driftwatch/core/simulator/simulation";
import { InMemoryDeviceRegistry, InMemoryPhiVaultStore } from "@driftwatch/core/testing";
import { createReadingPreparer } from "@driftwatch/core/telemetry/prepare";
import { createLakeWriteHandler } from "@driftwatch/functions/kinesis/lake-write";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import { LakeWriter } from "@driftwatch/local/ingest/lake-writer";
import { createRuleRouter } from "@driftwatch/local/ingest/rule-routing";
import { LocalLakeObjects } from "@driftwatch/local/ingest/stream-lake";
import type { PublishedMessage } from "@driftwatch/local/ingest/mqtt-broker";
import { createLambdaContext } from "@driftwatch/local/runtime/lambda-context";
import { EventSourceMappingEmulator } from "@driftwatch/local/scoring/event-source-mapping";
import { kinesisRuleTarget } from "@driftwatch/local/scoring/index";
import { LocalKinesisStream } from "@driftwatch/local/scoring/local-stream";
import { createZoneCipher } from "@driftwatch/local/storage/zone-cipher";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const MESSAGES = arg("messages", 100_000);
const DEVICES = arg("devices", 500);
const RUNS = arg("runs", 5);
const TURN = arg("turn", 50);

// As local mode: INFO lines to a sink (its log file), no EMF metrics.
configureObservability({ logSink: () => undefined, logLevel: "INFO", metrics: "off" });

const devices = simulatedDevices(DEVICES);
const simulation = createSimulation({ seed: 1, devices });
const start = Date.UTC(2026, 11, 3, 12);
const encoder = new TextEncoder();
const messages: PublishedMessage[] = [];
for (let k = 0; messages.length < MESSAGES; k++) {
  const index = k % DEVICES;
  const tMs = start + Math.floor(k / DEVICES) * 100;
  const message = simulation.step(index, tMs).message;
  if (message === undefined) continue;
  messages.push({
    topic: message.topic,
    payload: encoder.encode(message.payload),
    receivedAt: tMs + 5,
    qos: 1,
  });
}

async function run(): Promise<{ cpuUsPerMessage: number; allocatedPerMessage: number; wallMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-ingest-path-"));
  try {
    const stream = new LocalKinesisStream({
      dir: path.join(dir, "kinesis"),
      streamName: "bench",
      shardCount: 2,
      cipher: createZoneCipher(path.join(dir, "keys"), "stream"),
    });
    const rawCipher = createZoneCipher(path.join(dir, "keys"), "raw");
    const deidentifier = createDeidentifier({
      catalogue: defaultPhiCatalogue,
      tokenKey: Buffer.alloc(32, 1),
    });
    const vault = createEncryptedPhiVault({
      store: new InMemoryPhiVaultStore(),
      cipher: createEnvelopeCipher({ keyProvider: createLocalKeyProvider({ kek: Buffer.alloc(32, 2) }) }),
    });
    const preparer = createReadingPreparer({
      registry: new InMemoryDeviceRegistry(devices.map(toRegistryDevice)),
      deidentifier,
      vault,
    });
    const store = new LocalLakeObjects(
      new LakeWriter(path.join(dir, "lake"), path.join(dir, "tmp")),
      rawCipher,
    );
    const handler = createLakeWriteHandler(async () => ({ preparer, deidentifier, store }));
    let lakeRecords = 0;
    const mapping = new EventSourceMappingEmulator({
      stream,
      consumerName: "lake",
      windowSeconds: 3600,
      handler: async (event, context) => {
        const records = (event.Records as unknown[] | undefined) ?? [];
        if (records.length > 0) {
          const result = await handler(event as never, context);
          lakeRecords += result.readings + result.rejected + result.dropped;
        }
        return { state: {} };
      },
      createContext: () =>
        createLambdaContext({ functionName: "bench-lake", timeoutMs: 120_000, memoryLimitInMB: 1024 }),
      timeoutMs: 120_000,
      stateDir: path.join(dir, "esm-lake"),
      dlqDir: path.join(dir, "dlq"),
      batchSize: 5000,
      batchingWindowMs: 1000,
      retryAttempts: 10_000,
      maxRecordAgeSeconds: 24 * 3600,
      bisectBatchOnError: false,
    });
    const target = kinesisRuleTarget(stream, 50_000);
    const route = createRuleRouter({
      targets: () => [target],
      errorDir: path.join(dir, "rule-errors"),
    });

    const profiler = new v8.GCProfiler();
    const heapBefore = v8.getHeapStatistics().used_heap_size;
    profiler.start();
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    mapping.start();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < messages.length; i += TURN) {
      for (let j = i; j < Math.min(messages.length, i + TURN); j++) inFlight.push(route(messages[j]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(inFlight);
    await mapping.drained(600_000);
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - wallBefore;
    const heapAfter = v8.getHeapStatistics().used_heap_size;
    const gc = profiler.stop();
    await mapping.stop();
    stream.close();
    if (lakeRecords !== messages.length)
      throw new Error(`lake took ${lakeRecords} records of ${messages.length}`);
    let freed = 0;
    for (const entry of gc?.statistics ?? [])
      freed += entry.beforeGC.heapStatistics.usedHeapSize - entry.afterGC.heapStatistics.usedHeapSize;
    return {
      cpuUsPerMessage: (cpu.user + cpu.system) / messages.length,
      allocatedPerMessage: (freed + heapAfter - heapBefore) / messages.length,
      wallMs,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(
  `${messages.length} messages from ${DEVICES} devices, ${TURN} per turn; warm-up run, then ${RUNS} runs` +
    ` (load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")})`,
);
await run();
const results = [];
for (let r = 0; r < RUNS; r++) {
  const result = await run();
  results.push(result);
  console.log(
    `run ${r + 1}: ${result.cpuUsPerMessage.toFixed(1)} µs CPU/message, ${Math.round(result.allocatedPerMessage)} B allocated/message, ${Math.round(result.wallMs)} ms`,
  );
}
if (RUNS > 0)
  console.log(
    `median: ${median(results.map((r) => r.cpuUsPerMessage)).toFixed(1)} µs CPU/message, ${Math.round(median(results.map((r) => r.allocatedPerMessage)))} B allocated/message` +
      ` (load average after ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")})`,
  );
if (args.includes("--alloc-by-function")) {
  const session = new inspector.Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never);
  await run();
  const { profile } = (await session.post("HeapProfiler.stopSampling")) as {
    profile: { head: SampleNode };
  };
  interface SampleNode {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: SampleNode[];
  }
  const bySite = new Map<string, number>();
  const walk = (node: SampleNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(profile.head);
  const total = [...bySite.values()].reduce((a, b) => a + b, 0);
  console.log(`sampled allocation: ${Math.round(total / messages.length)} B/message; by function:`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 40))
    console.log(`${String(Math.round(bytes / messages.length)).padStart(7)} B  ${site}`);
}
process.exit(0);
