import fs from "node:fs";
import path from "node:path";
import type { Context, FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  FIREHOSE_MAX_RECORD_BYTES,
  FirehoseEmulator,
  FirehoseRecordTooLargeError,
  type FirehoseEmulatorOptions,
  type TransformationProcessor,
} from "../../src/ingest/firehose-emulator.ts";
import { StatusBoard } from "../../src/runtime/status-board.ts";
import { listFiles, rawCipher, readLines, tempDir, upperCaseProcessor } from "./firehose-test-kit.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function setup(overrides: Partial<FirehoseEmulatorOptions> = {}) {
  const dataDir = tempDir("firehose");
  dirs.push(dataDir);
  const cipher = rawCipher(dataDir);
  const status = new StatusBoard();
  const options: FirehoseEmulatorOptions = {
    streamName: "ingest",
    lakeDir: path.join(dataDir, "lake"),
    stateDir: path.join(dataDir, "firehose"),
    bufferBytes: 1024 * 1024,
    bufferSeconds: 60,
    processor: upperCaseProcessor as TransformationProcessor,
    rawCipher: cipher,
    retryDelayMs: 1,
    status,
    ...overrides,
  };
  const emulator = new FirehoseEmulator(options);
  const lake = options.lakeDir;
  const objects = (prefix = "") => listFiles(lake).filter((f) => f.startsWith(prefix));
  const lines = (prefix: string) => objects(prefix).flatMap((f) => readLines(path.join(lake, f), cipher));
  return { dataDir, cipher, status, emulator, lake, objects, lines, options };
}

const put = (emulator: FirehoseEmulator, text: string) => emulator.putRecord(Buffer.from(text));

describe("FirehoseEmulator buffering", () => {
  it("delivers by time: nothing before the interval, everything after it", async () => {
    const { emulator, objects, lines, status } = setup({ bufferSeconds: 0.3 });
    await Promise.all(["a\n", "b\n", "c\n"].map((t) => put(emulator, t)));
    expect(objects()).toEqual([]);
    // No flush: only the buffer interval's timer can deliver the batch.
    await vi.waitFor(() => expect(status.get("firehose.batches")).toBe(1), { timeout: 10_000, interval: 10 });
    expect(lines("readings/").sort()).toEqual(["A", "B", "C"]);
    expect(lines("raw/").sort()).toEqual(["a", "b", "c"]);
  });

  it("delivers by size: a full buffer goes at once, the rest waits", async () => {
    const { emulator, objects, lines, status } = setup({ bufferBytes: 100 });
    for (let i = 0; i < 3; i++) await put(emulator, `${String(i).repeat(39)}\n`); // 40 bytes each → sealed at 120
    await put(emulator, "tail\n");
    // The sealed batch is delivered in the background: wait for it, then check the tail is still buffered.
    await vi.waitFor(() => expect(status.get("firehose.batches")).toBe(1), { timeout: 10_000, interval: 10 });
    expect(lines("readings/")).toHaveLength(3);
    expect(status.get("firehose.batches")).toBe(1);
    await emulator.stop();
    expect(lines("readings/")).toHaveLength(4);
    expect(objects("readings/")).toHaveLength(2);
  });

  it("stop() flushes what is buffered and refuses new records", async () => {
    const { emulator, lines } = setup();
    await put(emulator, "x\n");
    await emulator.stop();
    expect(lines("readings/")).toEqual(["X"]);
    await expect(put(emulator, "y\n")).rejects.toThrow(/stopped/);
  });

  it("pushes back: putRecord waits while the high-water mark is exceeded", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: TransformationProcessor = async (event) => {
      await gate;
      return upperCaseProcessor(event);
    };
    const { emulator, lines } = setup({ processor: slow, bufferBytes: 10, highWaterBytes: 20 });
    await put(emulator, "0123456789\n"); // sealed, delivery blocked in the processor
    await put(emulator, "0123456789\n"); // sealed, queued: 22 bytes pending ≥ 20
    let third = false;
    const pending = put(emulator, "third\n").then(() => (third = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(third).toBe(false);
    release();
    await pending;
    await emulator.stop();
    expect(lines("readings/")).toHaveLength(3);
  });

  it("refuses a record over Firehose's 1,000 KiB limit", async () => {
    const { emulator } = setup();
    await expect(emulator.putRecord(Buffer.alloc(FIREHOSE_MAX_RECORD_BYTES + 1))).rejects.toBeInstanceOf(
      FirehoseRecordTooLargeError,
    );
  });
});

describe("FirehoseEmulator invocation", () => {
  it("invokes with the real event shape and a Lambda context", async () => {
    const seen: { event: FirehoseTransformationEvent; context: Context }[] = [];
    const spy: TransformationProcessor = async (event, context) => {
      seen.push({ event, context });
      return upperCaseProcessor(event);
    };
    const { emulator } = setup({ processor: spy });
    const before = Date.now();
    const id = await put(emulator, '{"topic":"t","receivedAt":1,"payload":"e30="}\n');
    await emulator.flush();
    expect(seen).toHaveLength(1);
    const { event, context } = seen[0];
    expect(Object.keys(event).sort()).toEqual(["deliveryStreamArn", "invocationId", "records", "region"]);
    expect(event.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.deliveryStreamArn).toBe("arn:aws:firehose:us-east-1:000000000000:deliverystream/ingest");
    expect(event.region).toBe("us-east-1");
    expect(event.records).toHaveLength(1);
    expect(Object.keys(event.records[0]).sort()).toEqual(["approximateArrivalTimestamp", "data", "recordId"]);
    expect(event.records[0].recordId).toBe(id);
    expect(event.records[0].approximateArrivalTimestamp).toBeGreaterThanOrEqual(before);
    expect(Buffer.from(event.records[0].data, "base64").toString()).toBe(
      '{"topic":"t","receivedAt":1,"payload":"e30="}\n',
    );
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.functionName).toBe("driftwatch-local-ingest-transform");
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it("splits a large batch into invocations within the processor buffer, in order, each record once", async () => {
    const events: FirehoseTransformationEvent[] = [];
    const spy: TransformationProcessor = async (event) => {
      events.push(event);
      return upperCaseProcessor(event);
    };
    const { emulator, lines } = setup({ processor: spy, processorBufferBytes: 1000 });
    const texts = Array.from(
      { length: 50 },
      (_, i) => `record-${String(i).padStart(3, "0")}-${"x".repeat(80)}\n`,
    );
    for (const text of texts) await put(emulator, text);
    await emulator.flush();
    expect(events.length).toBeGreaterThanOrEqual(5);
    for (const event of events) {
      const bytes = event.records.reduce((sum, r) => sum + Buffer.from(r.data, "base64").length, 0);
      expect(bytes).toBeLessThanOrEqual(1000);
    }
    const ids = events.flatMap((e) => e.records.map((r) => r.recordId));
    expect(new Set(ids).size).toBe(50);
    expect(lines("readings/")).toEqual(texts.map((t) => t.trim().toUpperCase()));
  });

  it("retries a throwing invocation 3 times, then writes processing-failed records with Firehose's document", async () => {
    let calls = 0;
    const broken: TransformationProcessor = async () => {
      calls++;
      throw new Error("registry unavailable");
    };
    const { emulator, lines, objects, status } = setup({ processor: broken });
    await put(emulator, "first\n");
    await put(emulator, "second\n");
    await emulator.flush();
    expect(calls).toBe(4);
    expect(objects("readings/")).toEqual([]);
    expect(objects("errors/firehose/processing-failed/")).toHaveLength(1);
    expect(objects("errors/firehose/processing-failed/")[0]).toMatch(/\.gz\.enc$/);
    const docs = lines("errors/firehose/processing-failed/").map((l) => JSON.parse(l));
    expect(docs).toHaveLength(2);
    for (const doc of docs) {
      expect(doc).toMatchObject({ attemptsMade: 4, errorCode: "Lambda.FunctionError" });
      expect(typeof doc.arrivalTimestamp).toBe("number");
      expect(doc.lambdaArn).toContain(":function:driftwatch-local-ingest-transform");
    }
    expect(docs.map((d) => Buffer.from(d.rawData, "base64").toString()).sort()).toEqual([
      "first\n",
      "second\n",
    ]);
    expect(status.get("lake.errors")).toBe(2);
    expect(status.get("firehose.invocationErrors")).toBe(4);
  });

  it("succeeds after transient failures without error records", async () => {
    let calls = 0;
    const flaky: TransformationProcessor = async (event) => {
      if (++calls <= 2) throw new Error("throttled");
      return upperCaseProcessor(event);
    };
    const { emulator, lines, objects } = setup({ processor: flaky });
    await put(emulator, "ok\n");
    await emulator.flush();
    expect(calls).toBe(3);
    expect(lines("readings/")).toEqual(["OK"]);
    expect(objects("errors/")).toEqual([]);
  });

  it("times out a hanging invocation like Lambda and counts it as a failure", async () => {
    const hanging: TransformationProcessor = () => new Promise(() => {});
    const { emulator, lines } = setup({ processor: hanging, invocationTimeoutMs: 20, retries: 1 });
    await put(emulator, "x\n");
    await emulator.flush();
    expect(lines("errors/firehose/processing-failed/").map((l) => JSON.parse(l).errorCode)).toEqual([
      "Lambda.FunctionTimeout",
    ]);
  });

  it("writes Dropped nowhere and per-record ProcessingFailed to the error prefix", async () => {
    const { emulator, lines, status } = setup();
    for (const t of ["keep\n", "drop me\n", "fail me\n", "bad input\n"]) await put(emulator, t);
    await emulator.flush();
    expect(lines("readings/")).toEqual(["KEEP"]);
    expect(lines("errors/date=")).toEqual(["BAD INPUT"]);
    const failed = lines("errors/firehose/processing-failed/").map((l) => JSON.parse(l));
    expect(failed.map((d) => d.errorCode)).toEqual(["Lambda.ProcessingFailed"]);
    expect(lines("raw/")).toHaveLength(4);
    expect(status.get("firehose.dropped")).toBe(1);
    expect(status.get("lake.readings")).toBe(1);
    expect(status.get("lake.errors")).toBe(2);
  });
});

describe("FirehoseEmulator response validation", () => {
  const cases: [
    string,
    (event: FirehoseTransformationEvent) => FirehoseTransformationResult | unknown,
    string,
  ][] = [
    ["a missing record", (e) => ({ records: okAll(e).records.slice(1) }), "Lambda.MissingRecordId"],
    [
      "a duplicated record",
      (e) => ({ records: [...okAll(e).records, okAll(e).records[0]] }),
      "Lambda.DuplicatedRecordId",
    ],
    [
      "an unknown record id",
      (e) => ({ records: okAll(e).records.map((r, i) => (i === 0 ? { ...r, recordId: "nope" } : r)) }),
      "Lambda.UnknownRecordId",
    ],
    [
      "an invalid result",
      (e) => ({ records: okAll(e).records.map((r) => ({ ...r, result: "Maybe" })) }),
      "Lambda.InvalidRecordResult",
    ],
    [
      "Ok without base64 data",
      (e) => ({ records: okAll(e).records.map((r) => ({ ...r, data: "not base64!" })) }),
      "Lambda.InvalidData",
    ],
    ["no records array", () => ({ items: [] }), "Lambda.JsonProcessingException"],
    [
      "a non-string partition key",
      (e) => ({ records: okAll(e).records.map((r) => ({ ...r, metadata: { partitionKeys: { zone: 1 } } })) }),
      "Lambda.InvalidMetadata",
    ],
  ];

  function okAll(event: FirehoseTransformationEvent): FirehoseTransformationResult {
    return {
      records: event.records.map((r) => ({
        recordId: r.recordId,
        result: "Ok" as const,
        data: r.data,
        metadata: { partitionKeys: { zone: "readings", date: "2024-01-01", hour: "00" } },
      })),
    };
  }

  for (const [label, respond, code] of cases) {
    it(`fails the whole batch for ${label} (${code}), without retrying`, async () => {
      let calls = 0;
      const processor: TransformationProcessor = async (event) => {
        calls++;
        return respond(event);
      };
      const { emulator, lines, objects } = setup({ processor });
      for (const t of ["one\n", "two\n", "three\n"]) await put(emulator, t);
      await emulator.flush();
      expect(calls).toBe(1);
      expect(objects("readings/")).toEqual([]);
      const docs = lines("errors/firehose/processing-failed/").map((l) => JSON.parse(l));
      expect(docs).toHaveLength(3);
      expect(new Set(docs.map((d) => d.errorCode))).toEqual(new Set([code]));
    });
  }

  it("sends records whose partition keys are missing to partitioning-failed", async () => {
    const processor: TransformationProcessor = async (event) => ({
      records: event.records.map((r) => ({
        recordId: r.recordId,
        result: "Ok",
        data: r.data,
        metadata: { partitionKeys: { zone: "readings" } },
      })),
    });
    const { emulator, lines, objects } = setup({ processor });
    await put(emulator, "x\n");
    await emulator.flush();
    expect(objects("readings/")).toEqual([]);
    expect(lines("errors/firehose/partitioning-failed/").map((l) => JSON.parse(l).errorCode)).toEqual([
      "DynamicPartitioning.MetadataExtractionFailed",
    ]);
  });

  it("refuses partition keys that would escape the lake", async () => {
    const processor: TransformationProcessor = async (event) => ({
      records: event.records.map((r) => ({
        recordId: r.recordId,
        result: "Ok",
        data: r.data,
        metadata: { partitionKeys: { zone: "..", date: "..", hour: ".." } },
      })),
    });
    const { emulator, dataDir, objects } = setup({ processor });
    await put(emulator, "x\n");
    await emulator.flush();
    expect(objects("errors/firehose/partitioning-failed/")).toHaveLength(1);
    expect(listFiles(dataDir).filter((f) => !f.startsWith("lake/") && !f.startsWith("keys/"))).toEqual([]);
  });
});

describe("FirehoseEmulator partitioning and durability", () => {
  it("writes one gzip object per dynamic partition with the stack's keys, and the raw backup sealed", async () => {
    let clock = Date.parse("2024-03-01T10:59:59.500Z");
    const { emulator, objects, lines, cipher, lake } = setup({ now: () => clock });
    await put(emulator, "ten\n");
    await put(emulator, "bad ten\n");
    clock = Date.parse("2024-03-01T11:00:00.100Z");
    await put(emulator, "eleven\n");
    await emulator.flush();
    const keys = objects();
    const name = /^ingest-1-2024-03-01-10-59-59-\d{13}-[0-9a-z]+-0$/;
    const readings = keys.filter((k) => k.startsWith("readings/"));
    expect(readings.map((k) => path.dirname(k))).toEqual([
      "readings/date=2024-03-01/hour=10",
      "readings/date=2024-03-01/hour=11",
    ]);
    for (const key of readings) expect(path.basename(key, ".gz")).toMatch(name);
    expect(keys.filter((k) => k.startsWith("errors/")).map((k) => path.dirname(k))).toEqual([
      "errors/date=2024-03-01/hour=10",
    ]);
    const raw = keys.filter((k) => k.startsWith("raw/"));
    expect(raw).toHaveLength(1);
    expect(raw[0]).toMatch(/^raw\/date=2024-03-01\/hour=10\/ingest-1-.*\.gz\.enc$/);
    expect(fs.readFileSync(path.join(lake, raw[0])).includes(Buffer.from("eleven"))).toBe(false);
    expect(readLines(path.join(lake, raw[0]), cipher)).toEqual(["ten", "bad ten", "eleven"]);
    expect(lines("readings/date=2024-03-01/hour=11")).toEqual(["ELEVEN"]);
  });

  it("keeps records sealed in the spool until delivered, and replays a crashed batch to the same objects", async () => {
    const first = setup();
    const spoolDir = path.join(first.options.stateDir, "spool");
    await put(first.emulator, "patient Eugenia\n");
    await put(first.emulator, "second\n");
    const spools = listFiles(spoolDir);
    expect(spools).toHaveLength(1);
    const spoolBytes = fs.readFileSync(path.join(spoolDir, spools[0]));
    expect(spoolBytes.includes(Buffer.from("Eugenia"))).toBe(false);

    // Deliver once, then pretend the process died before removing the spool: put the spool file back.
    await first.emulator.flush();
    expect(listFiles(spoolDir)).toEqual([]);
    const delivered = first.objects();
    fs.writeFileSync(path.join(spoolDir, spools[0]), spoolBytes);

    const second = new FirehoseEmulator(first.options);
    const reports = await second.recover();
    expect(reports).toHaveLength(1);
    expect(reports[0].records).toBe(2);
    expect(first.objects()).toEqual(delivered); // same keys: overwritten, not duplicated
    expect(first.lines("readings/")).toEqual(["PATIENT EUGENIA", "SECOND"]);
    expect(listFiles(spoolDir)).toEqual([]);
  });

  it("recovers records that were buffered but never delivered", async () => {
    const first = setup();
    await put(first.emulator, "orphan\n");
    // No flush: the first emulator is abandoned (as in a crash).
    const second = new FirehoseEmulator(first.options);
    await second.recover();
    expect(first.lines("readings/")).toEqual(["ORPHAN"]);
  });
});

describe("FirehoseEmulator faults heal while running", () => {
  it("retries a failed lake write while running, leaves no temporary files, and shows the waiting batch", async () => {
    const { emulator, status, lake, lines, options } = setup({
      deliveryAttempts: 1,
      redeliverDelayMs: 20,
      maxRedeliverDelayMs: 40,
    });
    // A fault a retry can heal: `readings` is a file, so the partition directory cannot be made.
    fs.mkdirSync(lake, { recursive: true });
    fs.writeFileSync(path.join(lake, "readings"), "");
    await put(emulator, "a\n");
    await put(emulator, "b\n");
    expect(await emulator.flush()).toEqual([]);
    expect(emulator.waitingBatches()).toBe(1);
    expect(status.snapshot()["firehose.waiting"]).toBe(1);
    expect(status.line()).toContain("1 batch waiting (retrying)");
    expect(listFiles(path.join(options.stateDir, "tmp"))).toEqual([]);
    expect(listFiles(path.join(options.stateDir, "spool"))).toHaveLength(1);

    fs.rmSync(path.join(lake, "readings"));
    await vi.waitFor(() => expect(emulator.waitingBatches()).toBe(0), { timeout: 5000, interval: 20 });
    expect(lines("readings/")).toEqual(["A", "B"]);
    expect(status.line()).not.toContain("waiting");
    expect(listFiles(path.join(options.stateDir, "spool"))).toEqual([]);
    expect(listFiles(path.join(options.stateDir, "tmp"))).toEqual([]);
    await emulator.stop();
  });

  it("a write that fails after its temporary file was written removes that file", async () => {
    const { emulator, lake, options } = setup({ deliveryAttempts: 1, redeliverDelayMs: 60_000 });
    // The rename fails: the target object's path is a directory.
    await put(emulator, "x\n");
    const [report] = await emulator.flush();
    const key = report.objects.find((object) => object.startsWith("readings/")) as string;
    fs.rmSync(path.join(lake, key));
    fs.mkdirSync(path.join(lake, key, "blocker"), { recursive: true });
    const again = new FirehoseEmulator({ ...options, deliveryAttempts: 1, redeliverDelayMs: 60_000 });
    const spool = path.join(options.stateDir, "spool");
    // Replay the same batch (same object names) so the rename hits the directory.
    fs.mkdirSync(spool, { recursive: true });
    const { SpoolFile } = await import("../../src/ingest/firehose-spool.ts");
    const file = SpoolFile.open(spool, report.batchId, options.rawCipher);
    await file.append({
      recordId: `${report.batchId}-000000`,
      arrival: Date.now(),
      data: Buffer.from("x\n"),
    });
    await file.close();
    await again.recover();
    expect(again.waitingBatches()).toBe(1);
    expect(listFiles(path.join(options.stateDir, "tmp"))).toEqual([]);
    await again.stop();
  });

  it("removes temporary files a killed process left behind at the next start", async () => {
    const { options } = setup();
    const tmp = path.join(options.stateDir, "tmp");
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, "0123abcd.tmp"), "partial");
    await new FirehoseEmulator(options).recover();
    expect(listFiles(tmp)).toEqual([]);
  });

  it("delivers error records made before the transformation straight to errors/, untransformed", async () => {
    let invoked = 0;
    const { emulator, lines, objects } = setup({
      processor: (async (event: FirehoseTransformationEvent) => {
        invoked++;
        return upperCaseProcessor(event);
      }) as TransformationProcessor,
    });
    await emulator.putErrorRecord({ kind: "error", code: "PAYLOAD_TOO_LARGE", stage: "broker" });
    await emulator.flush();
    expect(invoked).toBe(0);
    expect(lines("errors/").map((line) => JSON.parse(line))).toEqual([
      { kind: "error", code: "PAYLOAD_TOO_LARGE", stage: "broker" },
    ]);
    expect(objects("raw/")).toEqual([]);
  });
});
