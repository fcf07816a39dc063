/**
 * Benchmark: the stream-fed lake writer (ADR 1001) against the Firehose transformation it replaces, in ONE process
 * on the same records: the lake-writer handler (middy + Powertools + core's `streamLakeBatch` + gzip of every
 * object, into an in-memory object store) and the transformation handler (what Firehose invoked per record batch).
 * Records are a mix of the four seed shapes (40 % medical with PHI, 5 % bad input), in batches of 3,600 — what
 * Lambda's 6 MB payload limit lets one Kinesis batch of 1 KB records carry. Runs alternate (A, B, A, B …) after a
 * warm-up of each. Prints per-CPU-second figures, their ratio and the objects' gzip ratios; writes
 * bench/results/lake-writer.json (the cost model's `lakeWriter.microsPerRecord`).
 *
 *   npx tsx bench/lake-writer.ts [--runs 5] [--batches 10] [--batch-size 3600]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FirehoseTransformationEvent, KinesisStreamEvent } from "aws-lambda";
import { createTransformHandler } from "@driftwatch/functions/firehose/transform";
import { createLakeWriteHandler } from "@driftwatch/functions/kinesis/lake-write";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import { BENCH_DEVICES as DEVICES, benchContext as context, freshDeps, rng } from "./ingest-fixtures.ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const RUNS = arg("runs", 5);
const BATCHES = arg("batches", 10);
const BATCH_SIZE = arg("batch-size", 3600);

/** One message: topic and payload of one of the seed shapes (or bad input). */
function message(i: number, t: number, random: () => number): { topic: string; payload: string } {
  const r = random();
  const device = Math.floor(random() * (DEVICES / 4)) * 4;
  if (r < 0.05) {
    return {
      topic: i % 5 === 3 ? "unknown/topic" : "LifeSupportDevice/Sensor",
      payload:
        i % 5 === 0 ? '{"device_id":"med-0","name":"Eugenia Gottlieb",' : `{"device_id":"med-${device}"}`,
    };
  }
  if (r < 0.45) {
    const patient = Math.floor(random() * 100);
    return {
      topic: "LifeSupportDevice/Sensor",
      payload: JSON.stringify({
        timestamp: new Date(t).toISOString().slice(0, 19),
        device_id: `med-${device}`,
        patient_id: `patient${patient}`,
        name: `Patient Name ${patient}`,
        dob: `01/${String((patient % 28) + 1).padStart(2, "0")}/1970`,
        temperature: 97 + random() * 4,
        pulse: 60 + random() * 50,
        oxygen_percent: 90 + random() * 10,
        systolic: 100 + random() * 40,
        diastolic: 60 + random() * 30,
      }),
    };
  }
  if (r < 0.65) {
    return {
      topic: `weather/wa/seattle/wx-${device + 1}/${["vib", "temp", "hum"][i % 3]}/s${i % 9}`,
      payload: JSON.stringify({ value: random(), direction: (i % 3) - 1, smoothed: random(), timestamp: t }),
    };
  }
  if (r < 0.85) {
    return {
      topic: "IoT_TOPIC/recieve",
      payload: JSON.stringify({
        TIME: new Date(t).toISOString().replace("Z", "123"),
        FANID: `fan-${device + 2}`,
        FREQ: Math.round(30 + random() * 20),
        RPM: Math.round(900 + random() * 600),
      }),
    };
  }
  return {
    topic: `dt/site-${device % 10}/dt-${device + 3}/telemetry`,
    payload: JSON.stringify({
      deviceId: `dt-${device + 3}`,
      ts: t,
      metrics: { pressure: random() * 5, flow: random() * 20, temp: 20 + random() * 5 },
    }),
  };
}

interface Batch {
  kinesis: KinesisStreamEvent;
  firehose: FirehoseTransformationEvent;
}

function makeBatch(batch: number, random: () => number): Batch {
  const base = Date.UTC(2024, 2, 1) + batch * 60_000;
  const kinesisRecords: KinesisStreamEvent["Records"] = [];
  const firehoseRecords: FirehoseTransformationEvent["records"] = [];
  for (let i = 0; i < BATCH_SIZE; i++) {
    const t = base + i;
    const { topic, payload } = message(i, t, random);
    const envelope = JSON.stringify({
      payload: Buffer.from(payload).toString("base64"),
      topic,
      receivedAt: t + 100,
      messageId: `m-${batch}-${i}`,
    });
    const data = Buffer.from(envelope).toString("base64");
    const sequenceNumber = String(49_000_000_000n + BigInt(batch * BATCH_SIZE + i));
    kinesisRecords.push({
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: `d${i}`,
        sequenceNumber,
        data,
        approximateArrivalTimestamp: (t + 500) / 1000,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::123456789012:role/bench",
      awsRegion: "us-east-1",
      eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
    });
    // Firehose's record: the same envelope plus the rule action's newline separator.
    firehoseRecords.push({
      recordId: `${batch}-${i}`,
      approximateArrivalTimestamp: t + 500,
      data: Buffer.from(`${envelope}\n`).toString("base64"),
    });
  }
  return {
    kinesis: { Records: kinesisRecords },
    firehose: {
      invocationId: `bench-${batch}`,
      deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/bench",
      region: "us-east-1",
      records: firehoseRecords,
    },
  };
}

/** Stored object bytes by zone (gzip) and the NDJSON bytes they hold. */
class MemoryStore {
  readonly bytes = new Map<string, number>();
  readonly objects = new Map<string, number>();
  async put(object: { zone: string; key: string; body: Uint8Array }): Promise<void> {
    this.bytes.set(object.zone, (this.bytes.get(object.zone) ?? 0) + object.body.length);
    this.objects.set(object.zone, (this.objects.get(object.zone) ?? 0) + 1);
  }
}

async function timeRun(fn: () => Promise<void>): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  configureObservability({ logSink: () => undefined, logLevel: "WARN", metrics: "off" });
  const random = rng(42);
  const batches = Array.from({ length: BATCHES }, (_, b) => makeBatch(b, random));
  const records = BATCHES * BATCH_SIZE;
  const writer: { cpu: number; wall: number }[] = [];
  const transform: { cpu: number; wall: number }[] = [];
  let lastStore = new MemoryStore();
  let ndjsonBytes = { readings: 0, raw: 0 };

  for (let run = 0; run <= RUNS; run++) {
    // Cold caches each run (first sight of each device and patient costs a registry lookup and a vault write).
    const store = new MemoryStore();
    const lake = createLakeWriteHandler(async () => ({ ...freshDeps(), store }));
    const a = await timeRun(async () => {
      for (const batch of batches) await lake(batch.kinesis, context);
    });
    const firehose = createTransformHandler(async () => freshDeps());
    let readingBytes = 0;
    const b = await timeRun(async () => {
      for (const batch of batches) {
        const result = (await firehose(batch.firehose, context)) as {
          records: { data: string; metadata?: { partitionKeys: { zone: string } } }[];
        };
        for (const record of result.records)
          if (record.metadata?.partitionKeys.zone === "readings")
            readingBytes += Buffer.byteLength(record.data, "base64");
      }
    });
    if (run === 0) continue; // warm-up (JIT)
    writer.push({ cpu: a.cpuSeconds, wall: a.seconds });
    transform.push({ cpu: b.cpuSeconds, wall: b.seconds });
    lastStore = store;
    ndjsonBytes = {
      readings: readingBytes,
      raw: batches.reduce(
        (n, batch) =>
          n + batch.kinesis.Records.reduce((m, r) => m + Buffer.byteLength(r.kinesis.data, "base64"), 0),
        0,
      ),
    };
  }

  const writerCpu = median(writer.map((r) => records / r.cpu));
  const transformCpu = median(transform.map((r) => records / r.cpu));
  const loadAverage = os.loadavg()[0];
  const result = {
    benchmark: "lake-writer",
    description:
      "Lake writer handler (streamLakeBatch + gzip, in-memory object store) vs the Firehose transformation handler on the same records, one process, one core, alternating runs",
    batchSize: BATCH_SIZE,
    batchesPerRun: BATCHES,
    recordsPerRun: records,
    runs: writer.length,
    lakeWriter: {
      medianRecordsPerCpuSecond: Math.round(writerCpu),
      medianMicrosecondsPerRecord: Number((1e6 / writerCpu).toFixed(2)),
      medianRecordsPerSecond: Math.round(median(writer.map((r) => records / r.wall))),
      perRunCpu: writer.map((r) => Math.round(records / r.cpu)),
      objectsPerRun: Object.fromEntries(lastStore.objects),
    },
    transform: {
      medianRecordsPerCpuSecond: Math.round(transformCpu),
      medianMicrosecondsPerRecord: Number((1e6 / transformCpu).toFixed(2)),
      medianRecordsPerSecond: Math.round(median(transform.map((r) => records / r.wall))),
      perRunCpu: transform.map((r) => Math.round(records / r.cpu)),
    },
    /** CPU per record of the writer over the transformation's (the writer also gzips readings and raw). */
    cpuRatioWriterOverTransform: Number((transformCpu / writerCpu).toFixed(3)),
    gzipRatio: {
      readings: Number(((lastStore.bytes.get("readings") ?? 0) / ndjsonBytes.readings).toFixed(3)),
      raw: Number(((lastStore.bytes.get("raw") ?? 0) / ndjsonBytes.raw).toFixed(3)),
    },
    environment: {
      loadAverage1m: Number(loadAverage.toFixed(2)),
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cpus: os.cpus().length,
      platform: `${os.platform()} ${os.arch()}`,
    },
    measuredAt: new Date().toISOString(),
  };

  console.log("lake writer vs Firehose transformation (records per CPU-second, one process)");
  console.log(
    `  records per run    ${records} (${BATCHES} batches of ${BATCH_SIZE}), ${writer.length} runs (+1 warm-up)`,
  );
  console.log(
    `  lake writer        ${result.lakeWriter.perRunCpu.join(", ")}  (median ${result.lakeWriter.medianRecordsPerCpuSecond}, ${result.lakeWriter.medianMicrosecondsPerRecord} µs/record)`,
  );
  console.log(
    `  transformation     ${result.transform.perRunCpu.join(", ")}  (median ${result.transform.medianRecordsPerCpuSecond}, ${result.transform.medianMicrosecondsPerRecord} µs/record)`,
  );
  console.log(`  writer / transform CPU per record  ${result.cpuRatioWriterOverTransform}`);
  console.log(`  gzip ratio         readings ${result.gzipRatio.readings}, raw ${result.gzipRatio.raw}`);
  console.log(`  objects per run    ${JSON.stringify(result.lakeWriter.objectsPerRun)}`);
  console.log(`  load average       ${result.environment.loadAverage1m}`);
  const out = path.join(import.meta.dirname, "results", "lake-writer.json");
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`  wrote ${path.relative(process.cwd(), out)}`);
}

await main();
