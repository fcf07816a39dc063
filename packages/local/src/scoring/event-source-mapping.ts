import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Context } from "aws-lambda";
import { windowOf } from "@driftwatch/core/window/window-time";
import type { LocalKinesisStream, StreamRecordStored } from "./local-stream.ts";
import { writeFileAtomic } from "./write-retry.ts";

/**
 * Lambda's Kinesis event source mapping with a tumbling window, emulated for local mode (and tested against the
 * documented behaviour, see ADR 0604):
 *
 * - one poller per shard, one invocation at a time per shard (parallelization factor 1), records in order;
 * - a batch holds records of ONE window; windows are aligned to the window length by arrival time
 *   (`approximateArrivalTimestamp`); the event carries `window.start/end`, `state` (the state the previous invocation
 *   of the same window returned, `{}` for a new window), `shardId`, `eventSourceARN`, `isFinalInvokeForWindow`,
 *   `isWindowTerminatedEarly`;
 * - after the window's end, once its records are processed, a final invoke (no records) hands over the state; a
 *   failed final invoke blocks the shard and is retried until it succeeds;
 * - a returned state over 1 MB terminates the window early: a final invoke with `isWindowTerminatedEarly` gets that
 *   state, then the same window continues with a fresh state;
 * - `batchItemFailures`: records before the lowest failed sequence number are acknowledged (with the returned state),
 *   the rest is retried from it; an identifier not in the batch fails the whole batch;
 * - a function error (throw, timeout, missing `state`) retries the batch — bisected in halves when
 *   `bisectBatchOnError` — up to `retryAttempts`; records older than `maxRecordAgeSeconds` are not retried;
 *   what is given up goes to the on-failure destination (a JSON file of batch metadata under `dlqDir`, the shape of
 *   Lambda's SQS/SNS on-failure record; no record data, as on AWS) and the shard moves on;
 * - the checkpoint (last acknowledged sequence number + the open window and its state) is written atomically to
 *   `stateDir` after every successful invocation, so a restart mid-window loses nothing acknowledged.
 */
export interface TumblingWindowResponse {
  state?: Record<string, unknown>;
  batchItemFailures?: { itemIdentifier: string }[];
}

export type KinesisWindowHandler = (
  event: Record<string, unknown>,
  context: Context,
) => Promise<TumblingWindowResponse | undefined | void>;

export interface EventSourceMappingOptions {
  stream: LocalKinesisStream;
  handler: KinesisWindowHandler;
  createContext: () => Context;
  /** Invocation timeout (the function's timeout), ms. */
  timeoutMs: number;
  stateDir: string;
  dlqDir: string;
  windowSeconds: number;
  batchSize?: number;
  /** MaximumBatchingWindowInSeconds, in ms. */
  batchingWindowMs?: number;
  retryAttempts?: number;
  maxRecordAgeSeconds?: number;
  bisectBatchOnError?: boolean;
  functionArn?: string;
  /** The consumer name this mapping acknowledges records as (`LocalKinesisStream.registerConsumer`). */
  consumerName?: string;
  clock?: () => number;
  /** Retry backoff base (Lambda backs off between retries), ms. */
  retryBackoffMs?: number;
  log?: (message: string) => void;
  /**
   * True when the handler copies the event before it returns (a scoring worker: `postMessage` clones it at once), so
   * the window state the mapping keeps is not cloned for it first (issue 13: one clone of the state per invocation).
   */
  handlerCopiesEvent?: boolean;
  onInvoke?: (info: { shardId: string; records: number; final: boolean; ok: boolean; ms: number }) => void;
}

interface ShardCheckpoint {
  lastSequenceNumber: string | null;
  window: { startMs: number; endMs: number; state: Record<string, unknown> } | null;
}

export const WINDOW_STATE_LIMIT_BYTES = 1024 * 1024;

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");

class FunctionError extends Error {
  constructor(
    message: string,
    readonly reason: "Unhandled" | "Timeout" | "InvalidResponse",
  ) {
    super(message);
  }
}

export class EventSourceMappingEmulator {
  private readonly checkpoints = new Map<string, ShardCheckpoint>();
  private readonly wakeups = new Map<string, () => void>();
  private readonly loops: Promise<void>[] = [];
  private running = false;
  private unsubscribe?: () => void;
  private readonly clock: () => number;
  private readonly windowMs: number;
  private readonly o: Required<
    Pick<
      EventSourceMappingOptions,
      | "batchSize"
      | "batchingWindowMs"
      | "retryAttempts"
      | "maxRecordAgeSeconds"
      | "bisectBatchOnError"
      | "retryBackoffMs"
    >
  >;
  private idle = new Map<string, boolean>();
  /** Shards that received records since their poller last looked (no lost wake-ups). */
  private readonly signalled = new Set<string>();

  constructor(private readonly options: EventSourceMappingOptions) {
    // Declared before any consumer acknowledges: otherwise a faster consumer (the lake writer) trims records this
    // mapping has not read yet while its first invocation is still running (issue 13: records acknowledged unscored).
    options.stream.registerConsumer(options.consumerName ?? "default");
    this.clock = options.clock ?? Date.now;
    this.windowMs = options.windowSeconds * 1000;
    this.o = {
      batchSize: options.batchSize ?? 1000,
      batchingWindowMs: options.batchingWindowMs ?? 500,
      retryAttempts: options.retryAttempts ?? 3,
      maxRecordAgeSeconds: options.maxRecordAgeSeconds ?? 3600,
      bisectBatchOnError: options.bisectBatchOnError ?? true,
      retryBackoffMs: options.retryBackoffMs ?? 200,
    };
    fs.mkdirSync(options.stateDir, { recursive: true });
    fs.mkdirSync(options.dlqDir, { recursive: true });
    for (const shardId of options.stream.shardIds)
      this.checkpoints.set(shardId, this.loadCheckpoint(shardId));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.stream.onRecord((shardId) => {
      this.signalled.add(shardId);
      this.wakeups.get(shardId)?.();
    });
    for (const shardId of this.options.stream.shardIds) this.loops.push(this.pollShard(shardId));
  }

  /** Stops polling after the invocations in flight (windows stay open in the checkpoint; a restart resumes them). */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    for (const wake of this.wakeups.values()) wake();
    await Promise.all(this.loops);
    this.loops.length = 0;
  }

  /** Resolves once every shard has processed all records put so far and closed every window that has ended. */
  async drained(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = this.options.stream.shardIds.some((shardId) => {
        const cp = this.checkpoints.get(shardId)!;
        const pending = this.options.stream.read(shardId, cp.lastSequenceNumber, 1).length > 0;
        const windowDue = cp.window !== null && this.clock() >= cp.window.endMs;
        return pending || windowDue || !this.idle.get(shardId);
      });
      if (!busy) return;
      if (Date.now() > deadline) throw new Error("event source mapping did not drain in time");
      await sleep(50);
    }
  }

  checkpointOf(shardId: string): ShardCheckpoint {
    return structuredClone(this.checkpoints.get(shardId)!);
  }

  private async pollShard(shardId: string): Promise<void> {
    while (this.running) {
      this.idle.set(shardId, false);
      try {
        const progressed = await this.step(shardId);
        if (progressed) continue;
      } catch (error) {
        this.options.log?.(`shard ${shardId}: ${(error as Error).message}`);
      }
      const cp = this.checkpoints.get(shardId)!;
      const untilWindowEnd = cp.window ? Math.max(0, cp.window.endMs - this.clock()) : 60_000;
      this.idle.set(shardId, true);
      await this.sleepUntilWoken(shardId, Math.min(untilWindowEnd + 5, 1_000));
    }
  }

  /** One unit of work for the shard; false when there is nothing to do right now. */
  private async step(shardId: string): Promise<boolean> {
    const cp = this.checkpoints.get(shardId)!;
    const now = this.clock();
    const next = this.options.stream.read(shardId, cp.lastSequenceNumber, this.o.batchSize);

    if (cp.window) {
      const inWindow = next.filter((r) => r.arrivalMs < cp.window!.endMs);
      if (inWindow.length === 0) {
        if (next.length > 0 || now >= cp.window.endMs) {
          await this.finalInvoke(shardId, false);
          return true;
        }
        return false;
      }
      return this.processBatch(shardId, inWindow, now);
    }
    if (next.length === 0) return false;
    const w = windowOf(next[0].arrivalMs, this.windowMs);
    cp.window = { startMs: w.startMs, endMs: w.endMs, state: {} };
    return this.processBatch(
      shardId,
      next.filter((r) => r.arrivalMs < w.endMs),
      now,
    );
  }

  private async processBatch(shardId: string, records: StreamRecordStored[], now: number): Promise<boolean> {
    const cp = this.checkpoints.get(shardId)!;
    // Batching window: wait for a full batch, up to the batching window after the oldest record (and not past the
    // window's end, which closes the batch anyway).
    if (
      records.length < this.o.batchSize &&
      now - records[0].arrivalMs < this.o.batchingWindowMs &&
      now < cp.window!.endMs
    ) {
      const waitMs = Math.min(this.o.batchingWindowMs - (now - records[0].arrivalMs), cp.window!.endMs - now);
      await this.sleepUntilWoken(
        shardId,
        waitMs,
        () =>
          this.options.stream.read(shardId, cp.lastSequenceNumber, this.o.batchSize).length >=
          this.o.batchSize,
      );
      return true;
    }
    // Records past the maximum age go to the on-failure destination without an invocation.
    const maxAgeMs = this.o.maxRecordAgeSeconds * 1000;
    const expired = records.filter((r) => now - r.arrivalMs > maxAgeMs);
    if (expired.length > 0) {
      this.toDlq(shardId, expired, "RecordAgeExceeded", 0, undefined);
      await this.acknowledge(shardId, expired[expired.length - 1].sequenceNumber, cp.window!.state);
      return true;
    }
    await this.invokeWithRetries(shardId, records, 0);
    return true;
  }

  /** Invokes for `records` until they are acknowledged or given up; acknowledges as it goes. */
  private async invokeWithRetries(
    shardId: string,
    records: StreamRecordStored[],
    attemptsSoFar: number,
  ): Promise<void> {
    let pending = records;
    let attempts = attemptsSoFar;
    while (pending.length > 0 && this.running) {
      const cp = this.checkpoints.get(shardId)!;
      const result = await this.invoke(shardId, pending, cp.window!.state, false, false);
      if (result.ok) {
        const failures = result.response.batchItemFailures ?? [];
        const state = result.response.state ?? {};
        if (failures.length === 0) {
          const stateBytes = await this.acknowledge(
            shardId,
            pending[pending.length - 1].sequenceNumber,
            state,
          );
          // State over Lambda's 1 MB: the window is terminated early (final invoke with that state), then the
          // same window continues with a fresh state.
          if (stateBytes > WINDOW_STATE_LIMIT_BYTES) await this.finalInvoke(shardId, true);
          return;
        }
        const index = lowestFailedIndex(pending, failures);
        if (index === undefined) {
          attempts += 1; // an identifier not in the batch: Lambda treats the whole batch as failed
        } else {
          if (index > 0) await this.acknowledge(shardId, pending[index - 1].sequenceNumber, state);
          pending = pending.slice(index);
          attempts += 1;
        }
      } else {
        // A split is not counted as a retry: bisection isolates a poison record down to a batch of one, which then
        // has its own retries.
        if (this.o.bisectBatchOnError && pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          await this.invokeWithRetries(shardId, pending.slice(0, half), attempts);
          await this.invokeWithRetries(shardId, pending.slice(half), attempts);
          return;
        }
        attempts += 1;
      }
      const tooOld = this.clock() - pending[0].arrivalMs > this.o.maxRecordAgeSeconds * 1000;
      if (attempts > this.o.retryAttempts || tooOld) {
        const reason = tooOld ? "RecordAgeExceeded" : "RetryAttemptsExhausted";
        this.toDlq(shardId, pending, reason, attempts, result.ok ? undefined : result.error);
        await this.acknowledge(
          shardId,
          pending[pending.length - 1].sequenceNumber,
          this.checkpoints.get(shardId)!.window!.state,
        );
        return;
      }
      await sleep(Math.min(5_000, this.o.retryBackoffMs * 2 ** (attempts - 1)));
    }
  }

  private async finalInvoke(shardId: string, early: boolean): Promise<void> {
    const cp = this.checkpoints.get(shardId)!;
    for (let attempt = 0; this.running || attempt === 0; attempt++) {
      const result = await this.invoke(shardId, [], cp.window!.state, true, early);
      if (result.ok) {
        if (early) cp.window!.state = {};
        else cp.window = null;
        await this.saveCheckpoint(shardId);
        return;
      }
      // A failed final invoke suspends the shard until it succeeds.
      await sleep(Math.min(30_000, this.o.retryBackoffMs * 2 ** Math.min(attempt, 8)));
    }
  }

  private async invoke(
    shardId: string,
    records: StreamRecordStored[],
    state: Record<string, unknown>,
    final: boolean,
    early: boolean,
  ): Promise<{ ok: true; response: TumblingWindowResponse } | { ok: false; error: FunctionError }> {
    const cp = this.checkpoints.get(shardId)!;
    const { stream } = this.options;
    const event = {
      Records: records.map((r) => ({
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: r.partitionKey,
          sequenceNumber: r.sequenceNumber,
          data: r.data,
          approximateArrivalTimestamp: r.arrivalMs / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${shardId}:${r.sequenceNumber}`,
        eventName: "aws:kinesis:record",
        invokeIdentityArn: "arn:aws:iam::000000000000:role/local-scoring",
        awsRegion: "us-east-1",
        eventSourceARN: stream.streamArn,
      })),
      window: { start: isoSeconds(cp.window!.startMs), end: isoSeconds(cp.window!.endMs) },
      state: this.options.handlerCopiesEvent ? state : structuredClone(state),
      shardId,
      eventSourceARN: stream.streamArn,
      isFinalInvokeForWindow: final,
      isWindowTerminatedEarly: early,
    };
    const started = this.clock();
    let timer: NodeJS.Timeout | undefined;
    try {
      const response = await Promise.race([
        this.options.handler(event, this.options.createContext()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new FunctionError("Task timed out", "Timeout")),
            this.options.timeoutMs,
          );
        }),
      ]);
      if (
        !response ||
        typeof response !== "object" ||
        typeof response.state !== "object" ||
        response.state === null
      ) {
        throw new FunctionError(
          "the response has no state (tumbling windows require one)",
          "InvalidResponse",
        );
      }
      this.options.onInvoke?.({
        shardId,
        records: records.length,
        final,
        ok: true,
        ms: this.clock() - started,
      });
      return { ok: true, response };
    } catch (error) {
      const fnError =
        error instanceof FunctionError
          ? error
          : new FunctionError((error as Error)?.name ?? "Error", "Unhandled");
      this.options.log?.(
        `invocation failed on ${shardId} (${records.length} records${final ? ", final" : ""}): ${fnError.message}`,
      );
      this.options.onInvoke?.({
        shardId,
        records: records.length,
        final,
        ok: false,
        ms: this.clock() - started,
      });
      return { ok: false, error: fnError };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Checkpoints the shard at `sequenceNumber` with `state`, then lets the stream drop what every consumer has
   * acknowledged (only once the checkpoint is on disk: a restart must never resume before records already deleted);
   * returns the state's size as JSON, bytes.
   */
  private async acknowledge(
    shardId: string,
    sequenceNumber: string,
    state: Record<string, unknown>,
  ): Promise<number> {
    const cp = this.checkpoints.get(shardId)!;
    cp.lastSequenceNumber = sequenceNumber;
    if (cp.window) cp.window.state = state;
    const stateBytes = await this.saveCheckpoint(shardId);
    this.options.stream.trim(shardId, sequenceNumber, this.options.consumerName);
    return stateBytes;
  }

  private toDlq(
    shardId: string,
    records: StreamRecordStored[],
    condition: string,
    invokeCount: number,
    error: FunctionError | undefined,
  ): void {
    const first = records[0];
    const last = records[records.length - 1];
    const entry = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.options.functionArn ?? "arn:aws:lambda:us-east-1:000000000000:function:local-score",
        condition,
        approximateInvokeCount: invokeCount,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: error?.reason ?? "" },
      version: "1.0",
      timestamp: new Date(this.clock()).toISOString(),
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: last.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
        approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
        batchSize: records.length,
        streamArn: this.options.stream.streamArn,
      },
    };
    const file = path.join(
      this.options.dlqDir,
      `${entry.timestamp.replace(/[:.]/g, "-")}-${shardId}-${first.sequenceNumber}.json`,
    );
    writeAtomic(file, JSON.stringify(entry, null, 2));
    this.options.log?.(
      `${records.length} record(s) of ${shardId} sent to the on-failure destination (${condition}): ${path.basename(file)}`,
    );
  }

  private loadCheckpoint(shardId: string): ShardCheckpoint {
    try {
      return JSON.parse(fs.readFileSync(this.checkpointFile(shardId), "utf8")) as ShardCheckpoint;
    } catch {
      return { lastSequenceNumber: null, window: null };
    }
  }

  /**
   * Writes the shard's checkpoint; returns the window state's size as JSON, bytes (the state is serialized once
   * per invocation, for both the file and Lambda's 1 MB limit). The document is built at once; the write and rename
   * run off the main thread (libuv's pool; issue 13: the synchronous write and rename of a 500-device window state
   * after each invocation held the main thread ~5 % of its time at 5,000 msg/s). The shard's poller awaits it, so
   * the shard's checkpoints are still written one after another, each before the shard's next invocation.
   */
  private async saveCheckpoint(shardId: string): Promise<number> {
    const cp = this.checkpoints.get(shardId)!;
    if (!cp.window) {
      await writeFileAtomic(this.checkpointFile(shardId), JSON.stringify(cp));
      return 2;
    }
    const stateJson = JSON.stringify(cp.window.state);
    const { startMs, endMs } = cp.window;
    // Same document as JSON.stringify(cp), with the state's JSON spliced in.
    const document = `{"lastSequenceNumber":${JSON.stringify(cp.lastSequenceNumber)},"window":{"startMs":${startMs},"endMs":${endMs},"state":${stateJson}}}`;
    const bytes = Buffer.byteLength(stateJson);
    await writeFileAtomic(this.checkpointFile(shardId), document);
    return bytes;
  }

  private checkpointFile(shardId: string): string {
    return path.join(this.options.stateDir, `${shardId}.json`);
  }

  private sleepUntilWoken(shardId: string, ms: number, until?: () => boolean): Promise<void> {
    if (this.signalled.delete(shardId) && (!until || until())) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeups.set(shardId, () => {
        if (!until || until() || !this.running) {
          this.signalled.delete(shardId);
          done();
        }
      });
    });
  }
}

function lowestFailedIndex(
  records: StreamRecordStored[],
  failures: { itemIdentifier: string }[],
): number | undefined {
  let lowest: number | undefined;
  for (const f of failures) {
    const index = records.findIndex((r) => r.sequenceNumber === f?.itemIdentifier);
    if (index === -1) return undefined;
    if (lowest === undefined || index < lowest) lowest = index;
  }
  return lowest;
}

function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true }); // never leave the temporary file behind
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
