import { Worker } from "node:worker_threads";
import { lambdaHeapLimits } from "../runtime/lambda-heap.ts";
import type { IncidentResolver } from "@driftwatch/core/incidents/resolve-on-return";
import type { EscalationStarter } from "@driftwatch/core/ports/escalation-starter";
import type { KinesisWindowHandler, TumblingWindowResponse } from "./event-source-mapping.ts";
import {
  deserializeError,
  packEvent,
  serializeError,
  type FromScoreWorker,
  type ScoreWorkerData,
  type ToScoreWorker,
} from "./score-worker-protocol.ts";
import type { StatusSink } from "./write-retry.ts";

/** The scoring worker stopped (crashed or was stopped) while an invocation was in flight. */
export class ScoreWorkerExitedError extends Error {
  override name = "ScoreWorkerExitedError";
}

export interface ScoreWorkerPool {
  /** Invokes the handler in the worker of the event's shard (posts the event, awaits the response). */
  handler: KinesisWindowHandler;
  invalidateDevices(deviceIds: readonly string[]): void;
  clearThresholds(): void;
  /** Resolves once every worker has loaded the handler's modules and built its deps (rejects if one failed). */
  ready: Promise<void>;
  /** Stops every worker (after the event source mapping has stopped: nothing is in flight). */
  stop(): Promise<void>;
}

interface WorkerSlot {
  worker: Worker;
  /** Resolves on the worker's `ready` message, rejects if it fails or exits first. */
  ready: Promise<void>;
  pending: Map<
    number,
    { resolve: (r: TumblingWindowResponse | undefined) => void; reject: (e: Error) => void }
  >;
  exited: boolean;
}

/**
 * Scoring workers (`score-worker.ts`), `workers` of them; shard i always goes to worker i mod `workers` (a device's
 * records, its window state and its detector stay in one thread). A worker that dies fails the invocations in
 * flight (the event source mapping retries them, as after a crashed Lambda instance) and is started again on the
 * next invocation (a cold start). The workers start with the pool.
 */
export function startScoreWorkers(options: {
  workers: number;
  shardIds: readonly string[];
  data: Omit<ScoreWorkerData, "entry">;
  escalation: EscalationStarter;
  incidents: IncidentResolver;
  status: StatusSink;
  log: (component: string, message: string) => void;
}): ScoreWorkerPool {
  const slots: (WorkerSlot | undefined)[] = new Array(Math.max(1, options.workers)).fill(undefined);
  const slotOfShard = new Map(options.shardIds.map((id, i) => [id, i % slots.length]));
  let nextId = 1;
  let stopping = false;

  const spawn = (): WorkerSlot => {
    const data: ScoreWorkerData = {
      ...options.data,
      entry: new URL("./score-worker.ts", import.meta.url).href,
    };
    // The worker boot file registers tsx in the thread, then imports `data.entry`.
    const worker = new Worker(new URL("../runtime/worker-boot.mjs", import.meta.url), {
      workerData: data,
      // The scoring Lambda's heap limits (its memory), as its runtime sets them on AWS.
      resourceLimits: lambdaHeapLimits(data.lambda.memoryLimitInMB),
    });
    let readyResolve!: () => void;
    let readyReject!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    ready.catch(() => undefined); // observed by the pool's `ready` (or not at all for a restarted worker)
    const slot: WorkerSlot = { worker, ready, pending: new Map(), exited: false };
    const post = (message: ToScoreWorker) => worker.postMessage(message);
    const reply = (id: number, work: Promise<unknown>) =>
      work.then(
        (value) => post({ type: "reply", id, ok: true, value }),
        (error: unknown) => post({ type: "reply", id, ok: false, error: serializeError(error) }),
      );
    worker.on("message", (message: FromScoreWorker) => {
      switch (message.type) {
        case "ready":
          readyResolve();
          break;
        case "result": {
          const pending = slot.pending.get(message.id);
          slot.pending.delete(message.id);
          if (message.ok) pending?.resolve(message.response);
          else pending?.reject(deserializeError(message.error));
          break;
        }
        case "escalate":
          reply(message.id, (async () => options.escalation.start(message.alert, message.executionName))());
          break;
        case "resolveIncident":
          reply(
            message.id,
            (async () => options.incidents.resolveActive(message.subject, message.rule, message.detail))(),
          );
          break;
        case "status":
          if (message.op === "inc") options.status.inc(message.name, Number(message.value));
          else options.status.set(message.name, message.value);
          break;
        case "log":
          options.log(message.component, message.message);
          break;
      }
    });
    const fail = (error: Error) => {
      readyReject(error);
      for (const pending of slot.pending.values()) pending.reject(error);
      slot.pending.clear();
    };
    worker.on("error", (error) => {
      options.log("scoring", `scoring worker failed: ${error.message}`);
      fail(new ScoreWorkerExitedError(`scoring worker failed: ${error.message}`));
    });
    worker.on("exit", (code) => {
      slot.exited = true;
      if (!stopping) options.log("scoring", `scoring worker exited (code ${code})`);
      fail(new ScoreWorkerExitedError(`scoring worker exited (code ${code})`));
    });
    return slot;
  };

  // Started at once (module loading takes seconds): the first records do not wait for a cold start.
  for (let i = 0; i < slots.length; i++) slots[i] = spawn();
  const slotFor = (shardId: string | undefined): WorkerSlot => {
    const index = slotOfShard.get(shardId ?? "") ?? 0;
    let slot = slots[index];
    if (!slot || slot.exited) slot = slots[index] = spawn();
    return slot;
  };
  const broadcast = (message: ToScoreWorker) => {
    for (const slot of slots) if (slot && !slot.exited) slot.worker.postMessage(message);
  };

  return {
    ready: Promise.all(slots.map((slot) => slot!.ready)).then(() => undefined),
    handler: (event) => {
      const slot = slotFor(event.shardId as string | undefined);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ type: "invoke", id, event: packEvent(event) } satisfies ToScoreWorker);
      });
    },
    invalidateDevices: (ids) => broadcast({ type: "devicesImported", ids: [...ids] }),
    clearThresholds: () => broadcast({ type: "thresholdsChanged" }),
    async stop() {
      stopping = true;
      await Promise.all(
        slots.map(async (slot) => {
          if (!slot || slot.exited) return;
          const exited = new Promise<void>((resolve) => slot.worker.once("exit", () => resolve()));
          slot.worker.postMessage({ type: "stop" } satisfies ToScoreWorker);
          const timer = setTimeout(() => void slot.worker.terminate(), 5_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
