import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Context, FirehoseTransformationEvent, FirehoseTransformationEventRecord } from "aws-lambda";
import type { Envelope } from "@driftwatch/core/telemetry/envelope";
import {
  evaluatePrefix,
  firehoseDataPrefix,
  firehoseErrorPrefix,
  firehoseRawPrefix,
  lakePartition,
} from "@driftwatch/functions/shared/lake-layout";
import type { RuleTarget } from "../runtime/context.ts";
import {
  createLambdaContext,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  withLambdaTimeout,
} from "../runtime/lambda-context.ts";
import type { StatusBoard } from "../runtime/status-board.ts";
import type { ZoneCipher } from "../storage/zone-cipher.ts";
import {
  InvalidTransformationResponseError,
  LAMBDA_PAYLOAD_LIMIT_BYTES,
  validateTransformationResponse,
  type RecordOutcome,
} from "./firehose-response.ts";
import { readSpoolFile, readSpools, SpoolFile, type SpooledRecord } from "./firehose-spool.ts";
import { LakeWriter } from "./lake-writer.ts";

const gzip = promisify(zlib.gzip);

/** A Firehose data-transformation Lambda handler (e.g. the middy handler from `createTransformHandler`). */
export type TransformationProcessor = (
  event: FirehoseTransformationEvent,
  context: Context,
) => Promise<unknown>;

/** Firehose's per-record limit for PutRecord (1,000 KiB). */
export const FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024;

/** A record Firehose would refuse at PutRecord. The IoT rule's error action then records the message. */
export class FirehoseRecordTooLargeError extends Error {
  override name = "FirehoseRecordTooLargeError";
}

export interface FirehoseEmulatorOptions {
  /** Delivery stream name (`ingest`), used in the ARN and the object names. */
  streamName: string;
  /** Lake root (`$DATA_DIR/lake`): objects are written under it with their S3 keys. */
  lakeDir: string;
  /** The emulator's own state (`$DATA_DIR/firehose`): spool and temporary files. */
  stateDir: string;
  /** Buffering hints of the S3 destination: deliver when the buffer holds this many bytes… */
  bufferBytes: number;
  /** …or when its oldest record is this old. 0 delivers on the next tick. */
  bufferSeconds: number;
  processor: TransformationProcessor;
  /** Seals raw/ objects, the spool and processing-failed objects (all hold source records). */
  rawCipher: ZoneCipher;
  /** Processor buffer: records per invocation add up to at most this many bytes (Firehose default 1 MiB). */
  processorBufferBytes?: number;
  /** Timeout of the transformation Lambda (default 60 s; Firehose allows up to 5 min). */
  invocationTimeoutMs?: number;
  /** Retries of a failed invocation (Firehose default 3), with exponential backoff from `retryDelayMs`. */
  retries?: number;
  retryDelayMs?: number;
  /** Lake writes of one delivery are retried this often (backoff from `retryDelayMs`) before it counts as failed. */
  deliveryAttempts?: number;
  /**
   * A failed delivery stays in the spool and is retried while the emulator runs, after this delay (default 1 s),
   * doubling up to `maxRedeliverDelayMs` (default 30 s); what is still waiting at `stop` is delivered at the next
   * start.
   */
  redeliverDelayMs?: number;
  maxRedeliverDelayMs?: number;
  /** `deliver` waits while more than this many bytes are buffered or being delivered (default 4 × bufferBytes). */
  highWaterBytes?: number;
  functionName?: string;
  region?: string;
  status?: StatusBoard;
  log?: (message: string) => void;
  now?: () => number;
}

interface Batch {
  id: string;
  openedAt: number;
  records: SpooledRecord[];
  bytes: number;
  spool?: SpoolFile;
  appends: Promise<void>[];
}

/** What one delivered batch produced (also returned by `flush`, for tests and benchmarks). */
export interface BatchReport {
  batchId: string;
  records: number;
  invocations: number;
  ok: number;
  dropped: number;
  processingFailed: number;
  /** Ok records per zone (`readings`, `errors`). */
  zones: Record<string, number>;
  /** Lake keys written. */
  objects: string[];
}

/**
 * Local stand-in for a Firehose delivery stream (Direct PUT → transformation Lambda → S3 with dynamic
 * partitioning, GZIP, and source record backup), faithful where Driftwatch depends on it:
 *
 * - Buffers by size and by time, as the destination's buffering hints do; `deliver` resolves once the record
 *   is durable in the spool (see `firehose-spool.ts`), which is when the IoT rule counts it as delivered.
 * - Invokes the transformation handler with the real event (`invocationId`, `deliveryStreamArn`, `region`,
 *   `records[{recordId, approximateArrivalTimestamp, data}]`) and a Lambda context, in chunks of at most the
 *   processor buffer size and Lambda's 6 MB payload limit.
 * - Validates the response as Firehose does; an invalid response fails the whole chunk. A throwing or timed
 *   out invocation is retried (3× with backoff), then every record of the chunk goes to the error prefix as
 *   `processing-failed` with Firehose's error document (`attemptsMade`, `errorCode`, `rawData`, …).
 * - Groups Ok records by their dynamic partition (`firehoseDataPrefix` evaluated with the handler's
 *   `partitionKeys`) and writes one GZIP object per partition per batch, plus the batch's source records under
 *   `raw/`. Keys are the S3 keys of the Ingest stack; object names are deterministic per batch
 *   (`<stream>-1-<yyyy-MM-dd-HH-mm-ss>-<batchId>.gz`), and writes are atomic, so a retried or replayed
 *   delivery overwrites instead of duplicating.
 *
 * Differences from AWS (ADR 0401): raw/ and processing-failed objects are sealed with the raw zone's local
 * key and end in `.enc` (S3 SSE-KMS is invisible to readers, local encryption is not); delivery is one batch at
 * a time; there is no 24-hour retention limit (a batch that cannot be written stays in the spool).
 */
export class FirehoseEmulator implements RuleTarget {
  readonly name: string;
  /** Receives every message, including unmatched topics and messages without a partition key. */
  readonly catchAll = true;
  readonly deliveryStreamArn: string;

  private readonly lake: LakeWriter;
  private readonly spoolDir: string;
  private readonly now: () => number;
  private readonly region: string;
  private readonly functionName: string;
  private current?: Batch;
  private timer?: NodeJS.Timeout;
  private chain: Promise<unknown> = Promise.resolve();
  /** Bytes buffered or being delivered; `deliver` waits above the high-water mark. */
  private pendingBytes = 0;
  private waiters: (() => void)[] = [];
  private sequence = 0;
  private stopped = false;
  /** Spool files of batches whose delivery failed, retried while running. */
  private readonly waiting = new Map<string, string>();
  private redeliverTimer?: NodeJS.Timeout;
  private redeliverDelay = 0;

  constructor(private readonly options: FirehoseEmulatorOptions) {
    this.name = `firehose:${options.streamName}`;
    this.region = options.region ?? LOCAL_REGION;
    this.functionName = options.functionName ?? `driftwatch-local-${options.streamName}-transform`;
    this.deliveryStreamArn = `arn:aws:firehose:${this.region}:${LOCAL_ACCOUNT_ID}:deliverystream/${options.streamName}`;
    this.lake = new LakeWriter(options.lakeDir, path.join(options.stateDir, "tmp"));
    this.spoolDir = path.join(options.stateDir, "spool");
    this.now = options.now ?? Date.now;
  }

  /**
   * Delivers what an earlier run left in the spool (a crash or kill before delivery). Call once before the
   * first `deliver`.
   */
  async recover(): Promise<BatchReport[]> {
    const reports: BatchReport[] = [];
    const stale = await this.lake.cleanTemporaryFiles();
    if (stale > 0) this.log(`removed ${stale} temporary file(s) left by an earlier run`);
    for (const spooled of await readSpools(this.spoolDir, this.options.rawCipher)) {
      if (spooled.skipped > 0) this.log(`spool ${spooled.batchId}: skipped ${spooled.skipped} torn line(s)`);
      const openedAt = Number(spooled.batchId.split("-")[0]);
      const batch: Batch = {
        id: spooled.batchId,
        openedAt: Number.isFinite(openedAt) ? openedAt : this.now(),
        records: spooled.records,
        bytes: spooled.records.reduce((sum, r) => sum + r.data.length, 0),
        appends: [],
      };
      this.pendingBytes += batch.bytes;
      const report = await this.enqueue(batch, path.join(this.spoolDir, `${spooled.batchId}.spool`));
      if (report) reports.push(report);
    }
    return reports;
  }

  /** The IoT rule's Firehose action: the envelope as JSON with the rule's "\n" record separator. */
  async deliver(envelope: Envelope): Promise<void> {
    await this.putRecord(Buffer.from(`${JSON.stringify(envelope)}\n`, "utf8"));
  }

  /**
   * Records a rejection made before the transformation (at the broker, or a failed rule action) as one line of
   * `errors/`, buffered, spooled and delivered with the stream's other records (it skips the transformation).
   */
  async putErrorRecord(errorRecord: object): Promise<string> {
    return this.putRecord(Buffer.from(`${JSON.stringify(errorRecord)}\n`, "utf8"), true);
  }

  /** Firehose PutRecord. Resolves with the record id once the record is durably buffered. */
  async putRecord(data: Buffer, errorLine = false): Promise<string> {
    if (this.stopped) throw new Error(`delivery stream ${this.options.streamName} is stopped`);
    if (!errorLine && data.length > FIREHOSE_MAX_RECORD_BYTES) {
      throw new FirehoseRecordTooLargeError(
        `record of ${data.length} bytes exceeds Firehose's ${FIREHOSE_MAX_RECORD_BYTES}-byte limit`,
      );
    }
    const highWater = this.options.highWaterBytes ?? 4 * this.options.bufferBytes;
    while (this.pendingBytes >= highWater) await new Promise<void>((resolve) => this.waiters.push(resolve));

    const batch = (this.current ??= this.openBatch());
    const record: SpooledRecord = {
      recordId: `${batch.id}-${String(batch.records.length).padStart(6, "0")}`,
      arrival: this.now(),
      data,
    };
    if (errorLine) record.errorLine = true;
    batch.records.push(record);
    batch.bytes += data.length;
    this.pendingBytes += data.length;
    this.options.status?.set("firehose.buffered", this.current?.records.length ?? 0);
    const appended = (batch.spool as SpoolFile).append(record);
    batch.appends.push(appended);
    if (batch.bytes >= this.options.bufferBytes) this.seal();
    await appended;
    return record.recordId;
  }

  /** Delivers the current buffer now and waits for every pending delivery. */
  async flush(): Promise<BatchReport[]> {
    const reports: BatchReport[] = [];
    const sealed = this.seal();
    if (sealed) reports.push(...[await sealed].filter((r): r is BatchReport => r !== undefined));
    await this.chain;
    return reports;
  }

  /** Stops accepting records and delivers everything buffered (Ctrl-C in local mode). */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    clearTimeout(this.redeliverTimer);
    this.redeliverTimer = undefined;
    if (this.waiting.size > 0) await this.redeliver();
    if (this.waiting.size > 0)
      this.log(`${this.waiting.size} batch(es) still not delivered; kept in the spool for the next start`);
  }

  /** Batches whose delivery failed and are being retried. */
  waitingBatches(): number {
    return this.waiting.size;
  }

  /** Retries every waiting batch once, oldest first (each from its spool file); reschedules what still fails. */
  private async redeliver(): Promise<void> {
    this.redeliverTimer = undefined;
    for (const [batchId, file] of [...this.waiting]) {
      let spooled;
      try {
        spooled = await readSpoolFile(file, this.options.rawCipher);
      } catch (error) {
        this.log(`batch ${batchId}: spool not readable (${(error as Error).message}); retrying later`);
        continue;
      }
      const openedAt = Number(batchId.split("-")[0]);
      const batch: Batch = {
        id: batchId,
        openedAt: Number.isFinite(openedAt) ? openedAt : this.now(),
        records: spooled.records,
        bytes: 0,
        appends: [],
      };
      const report = await this.enqueue(batch, file);
      if (report) this.log(`batch ${batchId} delivered on retry`);
    }
    this.options.status?.set("firehose.waiting", this.waiting.size);
    if (this.waiting.size === 0) this.redeliverDelay = 0;
  }

  private scheduleRedeliver(): void {
    if (this.stopped || this.redeliverTimer !== undefined) return;
    const base = this.options.redeliverDelayMs ?? 1000;
    this.redeliverDelay =
      this.redeliverDelay === 0
        ? base
        : Math.min(this.redeliverDelay * 2, this.options.maxRedeliverDelayMs ?? 30_000);
    this.redeliverTimer = setTimeout(() => {
      void this.redeliver().catch((error: Error) => this.log(`redelivery failed: ${error.message}`));
    }, this.redeliverDelay);
    this.redeliverTimer.unref?.();
  }

  private openBatch(): Batch {
    const openedAt = this.now();
    const id = `${openedAt}-${process.pid.toString(36)}${crypto.randomBytes(2).toString("hex")}-${(this.sequence++).toString(36)}`;
    this.timer = setTimeout(() => void this.seal(), this.options.bufferSeconds * 1000);
    this.timer.unref?.();
    return {
      id,
      openedAt,
      records: [],
      bytes: 0,
      spool: SpoolFile.open(this.spoolDir, id, this.options.rawCipher),
      appends: [],
    };
  }

  /** Closes the current buffer and queues its delivery. */
  private seal(): Promise<BatchReport | undefined> | undefined {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.current;
    this.current = undefined;
    this.options.status?.set("firehose.buffered", 0);
    if (!batch || batch.records.length === 0) return undefined;
    return this.enqueue(batch);
  }

  private enqueue(batch: Batch, spoolFile?: string): Promise<BatchReport | undefined> {
    const run = this.chain.then(async () => {
      try {
        await Promise.all(batch.appends);
        const report = await this.deliverBatch(batch);
        if (batch.spool) await batch.spool.remove();
        else if (spoolFile) await fs.rm(spoolFile, { force: true });
        if (this.waiting.delete(batch.id)) this.options.status?.set("firehose.waiting", this.waiting.size);
        return report;
      } catch (error) {
        await batch.spool?.close().catch(() => undefined);
        this.options.status?.inc("firehose.deliveryErrors");
        const file = batch.spool?.file ?? spoolFile;
        if (file !== undefined) this.waiting.set(batch.id, file);
        this.options.status?.set("firehose.waiting", this.waiting.size);
        this.log(
          `batch ${batch.id} not delivered (${(error as Error).message}); kept in the spool, ` +
            (this.stopped ? "delivered at the next start" : "retrying while running"),
        );
        this.scheduleRedeliver();
        return undefined;
      } finally {
        this.pendingBytes -= batch.bytes;
        for (const wake of this.waiters.splice(0)) wake();
      }
    });
    this.chain = run;
    return run;
  }

  private async deliverBatch(batch: Batch): Promise<BatchReport> {
    const status = this.options.status;
    const report: BatchReport = {
      batchId: batch.id,
      records: batch.records.length,
      invocations: 0,
      ok: 0,
      dropped: 0,
      processingFailed: 0,
      zones: {},
      objects: [],
    };
    const data = new Map<string, Buffer[]>();
    const raw = new Map<string, Buffer[]>();
    const failed = new Map<string, Buffer[]>();
    const add = (map: Map<string, Buffer[]>, key: string, value: Buffer) => {
      const list = map.get(key);
      if (list) list.push(value);
      else map.set(key, [value]);
    };

    const toTransform: SpooledRecord[] = [];
    for (const record of batch.records) {
      if (record.errorLine) {
        // Already an error record (a rejection before the transformation): straight to errors/.
        report.ok++;
        report.zones.errors = (report.zones.errors ?? 0) + 1;
        const { date, hour } = lakePartition("errors", record.arrival);
        add(
          data,
          evaluatePrefix(firehoseDataPrefix, {
            partitionKeys: { zone: "errors", date, hour },
            arrivalMs: record.arrival,
          }),
          record.data,
        );
        continue;
      }
      toTransform.push(record);
      add(raw, evaluatePrefix(firehoseRawPrefix, { arrivalMs: batch.openedAt }), record.data);
    }

    for (const chunk of this.chunks(toTransform)) {
      report.invocations++;
      const outcomes = await this.invoke(chunk);
      chunk.forEach((record, i) => {
        const outcome = outcomes[i];
        if (outcome.result === "Dropped") {
          report.dropped++;
          return;
        }
        if (outcome.result === "ProcessingFailed") {
          report.processingFailed++;
          add(failed, this.errorPrefix("processing-failed", record), this.errorDocument(record, outcome));
          return;
        }
        let prefix: string;
        try {
          prefix = evaluatePrefix(firehoseDataPrefix, {
            partitionKeys: outcome.partitionKeys,
            arrivalMs: record.arrival,
          });
          this.lake.resolve(`${prefix}x`);
        } catch (error) {
          report.processingFailed++;
          add(
            failed,
            this.errorPrefix("partitioning-failed", record),
            this.errorDocument(record, {
              recordId: record.recordId,
              result: "ProcessingFailed",
              errorCode: "DynamicPartitioning.MetadataExtractionFailed",
              errorMessage: (error as Error).message,
            }),
          );
          return;
        }
        report.ok++;
        const zone = outcome.partitionKeys?.zone ?? prefix.split("/")[0];
        report.zones[zone] = (report.zones[zone] ?? 0) + 1;
        add(data, prefix, outcome.data);
      });
    }

    const name = this.objectName(batch);
    const attempts = this.options.deliveryAttempts ?? 5;
    const writes: [string, () => Promise<Buffer>][] = [
      ...[...data].map(([prefix, parts]): [string, () => Promise<Buffer>] => [
        `${prefix}${name}.gz`,
        () => gzip(Buffer.concat(parts)),
      ]),
      ...[...raw].map(([prefix, parts]): [string, () => Promise<Buffer>] => [
        `${prefix}${name}.gz.enc`,
        async () => this.options.rawCipher.encrypt(await gzip(Buffer.concat(parts))),
      ]),
      ...[...failed].map(([prefix, parts]): [string, () => Promise<Buffer>] => [
        `${prefix}${name}.gz.enc`,
        async () => this.options.rawCipher.encrypt(await gzip(Buffer.concat(parts))),
      ]),
    ];
    for (const [key, body] of writes) {
      await retry(attempts, this.options.retryDelayMs ?? 200, async () => this.lake.put(key, await body()));
      report.objects.push(key);
    }

    status?.inc("firehose.batches");
    status?.inc("firehose.records", report.records);
    status?.inc("firehose.invocations", report.invocations);
    status?.inc("lake.readings", report.zones.readings ?? 0);
    status?.inc("lake.errors", (report.zones.errors ?? 0) + report.processingFailed);
    if (report.dropped) status?.inc("firehose.dropped", report.dropped);
    if (report.processingFailed) status?.inc("firehose.processingFailed", report.processingFailed);
    this.log(
      `batch ${batch.id}: ${report.records} records, ${report.invocations} invocation(s), ok ${report.ok} ` +
        `(${
          Object.entries(report.zones)
            .map(([z, n]) => `${z} ${n}`)
            .join(", ") || "none"
        }), dropped ${report.dropped}, ` +
        `failed ${report.processingFailed}, ${report.objects.length} object(s)`,
    );
    return report;
  }

  /** Splits a batch into invocations: ≤ processor buffer of record data and ≤ Lambda's 6 MB event. */
  private *chunks(records: readonly SpooledRecord[]): Generator<SpooledRecord[]> {
    const limit = this.options.processorBufferBytes ?? 1024 * 1024;
    const eventLimit = LAMBDA_PAYLOAD_LIMIT_BYTES - 64 * 1024;
    let chunk: SpooledRecord[] = [];
    let bytes = 0;
    let eventBytes = 0;
    for (const record of records) {
      const recordEventBytes = Math.ceil(record.data.length / 3) * 4 + record.recordId.length + 96;
      if (
        chunk.length > 0 &&
        (bytes + record.data.length > limit || eventBytes + recordEventBytes > eventLimit)
      ) {
        yield chunk;
        chunk = [];
        bytes = 0;
        eventBytes = 0;
      }
      chunk.push(record);
      bytes += record.data.length;
      eventBytes += recordEventBytes;
    }
    if (chunk.length > 0) yield chunk;
  }

  /** One invocation with Firehose's retries; every failure mode ends as per-record outcomes. */
  private async invoke(chunk: readonly SpooledRecord[]): Promise<RecordOutcome[]> {
    const records: FirehoseTransformationEventRecord[] = chunk.map((r) => ({
      recordId: r.recordId,
      approximateArrivalTimestamp: r.arrival,
      data: r.data.toString("base64"),
    }));
    const retries = this.options.retries ?? 3;
    const timeoutMs = this.options.invocationTimeoutMs ?? 60_000;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      const event: FirehoseTransformationEvent = {
        invocationId: crypto.randomUUID(),
        deliveryStreamArn: this.deliveryStreamArn,
        region: this.region,
        records,
      };
      const context = createLambdaContext({
        functionName: this.functionName,
        timeoutMs,
        region: this.region,
      });
      let response: unknown;
      try {
        response = await withLambdaTimeout(timeoutMs, () => this.options.processor(event, context));
      } catch (error) {
        lastError = error as Error;
        this.options.status?.inc("firehose.invocationErrors");
        this.log(
          `invocation ${event.invocationId} attempt ${attempt} failed: ${lastError.name}: ${lastError.message}`,
        );
        if (attempt <= retries) await sleep((this.options.retryDelayMs ?? 200) * 2 ** (attempt - 1));
        continue;
      }
      try {
        return validateTransformationResponse(records, response);
      } catch (error) {
        if (!(error instanceof InvalidTransformationResponseError)) throw error;
        this.options.status?.inc("firehose.invalidResponses");
        this.log(`invocation ${event.invocationId}: invalid response (${error.errorCode}): ${error.message}`);
        return chunk.map((r) => ({
          recordId: r.recordId,
          result: "ProcessingFailed" as const,
          errorCode: error.errorCode,
          errorMessage: error.message,
          attempts: attempt,
        }));
      }
    }
    const errorCode =
      lastError?.name === "LambdaTimeoutError" ? "Lambda.FunctionTimeout" : "Lambda.FunctionError";
    return chunk.map((r) => ({
      recordId: r.recordId,
      result: "ProcessingFailed" as const,
      errorCode,
      errorMessage: `The Lambda function failed ${retries + 1} times: ${lastError?.name ?? "Error"}`,
      attempts: retries + 1,
    }));
  }

  private errorPrefix(type: string, record: SpooledRecord): string {
    return evaluatePrefix(firehoseErrorPrefix, { arrivalMs: record.arrival, errorOutputType: type });
  }

  /** Firehose's document for a record it could not process (as written to the error prefix). */
  private errorDocument(
    record: SpooledRecord,
    outcome: RecordOutcome & { result: "ProcessingFailed" },
  ): Buffer {
    const attemptsMade = outcome.attempts ?? 1;
    return Buffer.from(
      `${JSON.stringify({
        attemptsMade,
        arrivalTimestamp: record.arrival,
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
        attemptEndingTimestamp: this.now(),
        rawData: record.data.toString("base64"),
        lambdaArn: `arn:aws:lambda:${this.region}:${LOCAL_ACCOUNT_ID}:function:${this.functionName}:$LATEST`,
      })}\n`,
    );
  }

  private objectName(batch: Batch): string {
    const iso = new Date(batch.openedAt).toISOString();
    const stamp = `${iso.slice(0, 10)}-${iso.slice(11, 13)}-${iso.slice(14, 16)}-${iso.slice(17, 19)}`;
    return `${this.options.streamName}-1-${stamp}-${batch.id}`;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function retry<T>(attempts: number, delayMs: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(delayMs * 2 ** (attempt - 1));
    }
  }
}
