import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLambdaContext } from "../../src/runtime/lambda-context.ts";
import {
  EventSourceMappingEmulator,
  type KinesisWindowHandler,
  type TumblingWindowResponse,
} from "../../src/scoring/event-source-mapping.ts";
import { LocalKinesisStream } from "../../src/scoring/local-stream.ts";

/**
 * The emulator against Lambda's documented tumbling-window behaviour. The handler here is a plain counting
 * function (the emulator is under test); the scoring handler runs under it in reliability.test.ts.
 */
interface Invocation {
  shardId: string;
  window: { start: string; end: string };
  state: Record<string, string>;
  final: boolean;
  early: boolean;
  seqs: string[];
  arrivals: number[];
  pks: string[];
}

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "dw-esm-"));
  dirs.push(d);
  return d;
}

function recordEvent(event: Record<string, unknown>): Invocation {
  const records = event.Records as {
    kinesis: { sequenceNumber: string; approximateArrivalTimestamp: number; partitionKey: string };
  }[];
  return {
    shardId: event.shardId as string,
    window: event.window as { start: string; end: string },
    state: event.state as Record<string, string>,
    final: event.isFinalInvokeForWindow as boolean,
    early: event.isWindowTerminatedEarly as boolean,
    seqs: records.map((r) => r.kinesis.sequenceNumber),
    arrivals: records.map((r) => r.kinesis.approximateArrivalTimestamp * 1000),
    pks: records.map((r) => r.kinesis.partitionKey),
  };
}

/** Counts records per window in the state; remembers every final state. */
function countingHandler(
  log: Invocation[],
  finals: Map<string, number>,
  fail?: (inv: Invocation, attempt: number) => TumblingWindowResponse | "throw" | undefined,
): KinesisWindowHandler {
  const attempts = new Map<string, number>();
  return async (event) => {
    const inv = recordEvent(event);
    log.push(inv);
    const key = inv.seqs.join(",") + (inv.final ? "F" : "");
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const injected = fail?.(inv, attempt);
    if (injected === "throw") throw new Error("injected failure");
    if (injected) return injected;
    const count = Number(inv.state.count ?? 0) + inv.seqs.length;
    if (inv.final) {
      finals.set(
        `${inv.shardId}|${inv.window.start}`,
        (finals.get(`${inv.shardId}|${inv.window.start}`) ?? 0) + count,
      );
      return { state: {} };
    }
    return { state: { count: String(count) }, batchItemFailures: [] };
  };
}

function setup(options: {
  dir?: string;
  shards?: number;
  windowSeconds?: number;
  handler: KinesisWindowHandler;
  batchSize?: number;
  retryAttempts?: number;
}) {
  const dir = options.dir ?? tempDir();
  const stream = new LocalKinesisStream({
    dir: path.join(dir, "stream"),
    streamName: "test-telemetry",
    shardCount: options.shards ?? 1,
  });
  const esm = new EventSourceMappingEmulator({
    stream,
    handler: options.handler,
    createContext: () => createLambdaContext({ functionName: "test-score", timeoutMs: 10_000 }),
    timeoutMs: 10_000,
    stateDir: path.join(dir, "esm"),
    dlqDir: path.join(dir, "dlq"),
    windowSeconds: options.windowSeconds ?? 1,
    batchSize: options.batchSize ?? 10,
    batchingWindowMs: 20,
    retryAttempts: options.retryAttempts ?? 2,
    retryBackoffMs: 5,
  });
  cleanups.push(async () => {
    await esm.stop();
    stream.close();
  });
  return { dir, stream, esm };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for a condition (polling), never for a fixed time: windows close on the wall clock, handlers run later. */
async function waitUntil(what: string, condition: () => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

const finalTotal = (finals: Map<string, number>) => [...finals.values()].reduce((a, b) => a + b, 0);

/** Puts `n` records spread over `spreadMs`. */
async function putSpread(
  stream: LocalKinesisStream,
  n: number,
  spreadMs: number,
  pk = (i: number) => `dev-${i % 5}`,
) {
  const seqs: string[] = [];
  for (let i = 0; i < n; i++) {
    seqs.push(stream.put(pk(i), Buffer.from(JSON.stringify({ i }))).sequenceNumber);
    if (i % 10 === 9) await sleep(spreadMs / (n / 10));
  }
  return seqs;
}

describe("event source mapping emulator (tumbling windows)", () => {
  it("batches in order per shard, keeps each batch in one aligned window, carries state and ends every window with a final invoke", async () => {
    const log: Invocation[] = [];
    const finals = new Map<string, number>();
    const { stream, esm } = setup({ handler: countingHandler(log, finals), shards: 2 });
    esm.start();
    const seqs = await putSpread(stream, 120, 2_200);
    await waitUntil("every record is counted in a final invoke", () => finalTotal(finals) === 120);
    await esm.drained(20_000);

    const byShard = new Map<string, Invocation[]>();
    for (const inv of log) byShard.set(inv.shardId, [...(byShard.get(inv.shardId) ?? []), inv]);
    expect([...byShard.keys()].sort()).toEqual(stream.shardIds);
    let total = 0;
    for (const [shardId, invs] of byShard) {
      const delivered = invs.flatMap((i) => i.seqs);
      expect(delivered.map(BigInt)).toEqual([...delivered.map(BigInt)].sort((a, b) => (a < b ? -1 : 1)));
      expect(new Set(delivered).size).toBe(delivered.length);
      let expectedState: Record<string, string> = {};
      let currentWindow = "";
      for (const inv of invs) {
        const start = Date.parse(inv.window.start);
        const end = Date.parse(inv.window.end);
        expect(end - start).toBe(1_000);
        expect(start % 1_000).toBe(0);
        expect(inv.window.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        for (const a of inv.arrivals) expect(a >= start && a < end).toBe(true);
        if (inv.window.start !== currentWindow) {
          expect(inv.state).toEqual({}); // a new window starts with a fresh state
          currentWindow = inv.window.start;
          expectedState = {};
        } else {
          expect(inv.state).toEqual(expectedState); // the state the previous invocation returned
        }
        expect(inv.seqs.length).toBeLessThanOrEqual(10);
        if (inv.final) {
          expect(inv.seqs).toEqual([]);
          expect(inv.early).toBe(false);
          currentWindow = "";
        } else {
          expectedState = { count: String(Number(expectedState.count ?? 0) + inv.seqs.length) };
        }
      }
      // The pk → shard mapping is stable (Kinesis hash key ranges).
      for (const inv of invs) for (const pk of inv.pks) expect(stream.shardFor(pk)).toBe(shardId);
      total += delivered.length;
    }
    expect(total).toBe(seqs.length);
    expect([...finals.values()].reduce((a, b) => a + b, 0)).toBe(120);
    expect(finals.size).toBeGreaterThanOrEqual(4); // ≥ 2 windows on each of 2 shards
  });

  it("resumes from the lowest failed sequence number with the returned state (partial batch failure)", async () => {
    const log: Invocation[] = [];
    const finals = new Map<string, number>();
    let failedOnce = false;
    const handler = countingHandler(log, finals, (inv) => {
      if (failedOnce || inv.final || inv.seqs.length < 6) return undefined;
      failedOnce = true;
      // The first 4 records succeeded; records 5 and 7 failed.
      return {
        state: { count: String(Number(inv.state.count ?? 0) + 4) },
        batchItemFailures: [{ itemIdentifier: inv.seqs[6] }, { itemIdentifier: inv.seqs[4] }],
      };
    });
    const { stream, esm } = setup({ handler, batchSize: 10 });
    for (let i = 0; i < 10; i++) stream.put("a", Buffer.from("x"));
    esm.start();
    await waitUntil("the window's final invoke", () => finals.size === 1);
    await esm.drained(10_000);
    const data = log.filter((i) => !i.final);
    expect(data[0].seqs).toHaveLength(10);
    expect(data[1].seqs[0]).toBe(data[0].seqs[4]);
    expect(data[1].state).toEqual({ count: "4" });
    expect([...finals.values()]).toEqual([10]);
  });

  it("bisects a failing batch, sends a poison record to the on-failure destination after its retries and moves on", async () => {
    const log: Invocation[] = [];
    const finals = new Map<string, number>();
    let poison = "";
    const handler = countingHandler(log, finals, (inv) =>
      !inv.final && inv.seqs.includes(poison) ? "throw" : undefined,
    );
    const { dir, stream, esm } = setup({ handler, batchSize: 8, retryAttempts: 2 });
    const seqs = Array.from({ length: 8 }, () => stream.put("a", Buffer.from("x")).sequenceNumber);
    poison = seqs[5];
    esm.start();
    await waitUntil("the window's final invoke", () => finals.size === 1);
    await esm.drained(10_000);
    const dlq = fs.readdirSync(path.join(dir, "dlq"));
    expect(dlq).toHaveLength(1);
    const entry = JSON.parse(fs.readFileSync(path.join(dir, "dlq", dlq[0]), "utf8"));
    expect(entry.requestContext.condition).toBe("RetryAttemptsExhausted");
    expect(entry.requestContext.approximateInvokeCount).toBe(3);
    expect(entry.KinesisBatchInfo).toMatchObject({
      shardId: "shardId-000000000000",
      startSequenceNumber: poison,
      endSequenceNumber: poison,
      batchSize: 1,
    });
    expect(JSON.stringify(entry)).not.toContain('"data"');
    expect([...finals.values()]).toEqual([7]); // every other record counted exactly once
    const poisonAttempts = log.filter((i) => i.seqs.length === 1 && i.seqs[0] === poison).length;
    expect(poisonAttempts).toBe(3); // first try + 2 retries
  });

  it("loses nothing acknowledged and counts nothing twice across a restart mid-window", async () => {
    const log: Invocation[] = [];
    const finals = new Map<string, number>();
    const first = setup({ handler: countingHandler(log, finals), windowSeconds: 3, batchSize: 5 });
    first.esm.start();
    for (let i = 0; i < 12; i++) first.stream.put(`d${i}`, Buffer.from("x"));
    await waitUntil(
      "the first process has delivered all 12 records",
      () => new Set(log.filter((i) => !i.final).flatMap((i) => i.seqs)).size === 12,
    );
    await first.esm.stop();
    first.stream.close();
    cleanups.length = 0;
    const acknowledged = first.esm.checkpointOf("shardId-000000000000");
    expect(acknowledged.window).not.toBeNull();
    // Records put while nothing consumes, then a new process on the same data directory.
    const second = setup({
      dir: first.dir,
      handler: countingHandler(log, finals),
      windowSeconds: 3,
      batchSize: 5,
    });
    for (let i = 0; i < 7; i++) second.stream.put(`d${i}`, Buffer.from("x"));
    second.esm.start();
    await waitUntil("both processes' records are counted in final invokes", () => finalTotal(finals) === 19);
    await second.esm.drained(15_000);
    expect([...finals.values()].reduce((a, b) => a + b, 0)).toBe(19);
    const delivered = log.filter((i) => !i.final).flatMap((i) => i.seqs);
    expect(new Set(delivered).size).toBe(19);
  });

  it("terminates a window early when the state exceeds 1 MB and continues the same window with a fresh state", async () => {
    const log: Invocation[] = [];
    const big = "x".repeat(1024 * 1024 + 10);
    const handler: KinesisWindowHandler = async (event) => {
      const inv = recordEvent(event);
      log.push(inv);
      if (inv.final) return { state: {} };
      return { state: log.filter((i) => !i.final).length === 1 ? { big } : { n: String(inv.seqs.length) } };
    };
    const { stream, esm } = setup({ handler, batchSize: 3, windowSeconds: 2 });
    for (let i = 0; i < 6; i++) stream.put("a", Buffer.from("x"));
    esm.start();
    await waitUntil("the second window's final invoke", () => log.length >= 4);
    await esm.drained(10_000);
    expect(log.map((i) => [i.final, i.early, i.seqs.length])).toEqual([
      [false, false, 3],
      [true, true, 0],
      [false, false, 3],
      [true, false, 0],
    ]);
    expect(log[1].state).toEqual({ big });
    expect(log[2].state).toEqual({});
    expect(log[2].window).toEqual(log[0].window);
  });
});
