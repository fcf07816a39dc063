import fs from "node:fs";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import dynalite from "dynalite";
import type { DynaliteWorkerData, FromDynaliteWorker, ToDynaliteWorker } from "./dynalite-protocol.ts";

/** dynalite's worker thread failed to start or stopped before it was closed. */
export class DynaliteWorkerError extends Error {
  override name = "DynaliteWorkerError";
}

export interface DynaliteServer {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts dynalite (the DynamoDB API on LevelDB) on `host`, on a free port unless one is given.
 * With `dir`, tables persist there across restarts; without it, they live in memory (tests).
 * Tables are ACTIVE at once (no CREATING delay), so startup does not wait.
 */
export async function startDynalite(
  options: { dir?: string; host?: string; port?: number } = {},
): Promise<DynaliteServer> {
  const host = options.host ?? "127.0.0.1";
  if (options.dir) fs.mkdirSync(options.dir, { recursive: true });
  const server = dynalite({ path: options.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
        server.close((error?: Error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * `startDynalite` in its own worker thread (`dynalite-worker.ts`; local mode's default, issue 13): the same server on
 * the same kind of endpoint, so its CPU (request parsing and validation, LevelDB, big-number arithmetic) is not
 * spent on the main thread. `close()` stops the server and ends the thread.
 */
export async function startDynaliteWorker(
  options: { dir?: string; host?: string; port?: number; log?: (message: string) => void } = {},
): Promise<DynaliteServer> {
  const data: DynaliteWorkerData = {
    entry: new URL("./dynalite-worker.ts", import.meta.url).href,
    dir: options.dir,
    host: options.host,
    port: options.port,
  };
  // The worker boot file registers tsx in the thread, then imports `data.entry`.
  const worker = new Worker(new URL("../runtime/worker-boot.mjs", import.meta.url), {
    workerData: data,
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  let ready: { endpoint: string; port: number };
  try {
    ready = await new Promise((resolve, reject) => {
      worker.on("message", (message: FromDynaliteWorker) => {
        if (message.type === "ready") resolve(message);
        else if (message.type === "fatal") reject(new DynaliteWorkerError(message.message));
      });
      worker.once("error", (error) => reject(new DynaliteWorkerError(error.message)));
      void exit.then(() => reject(new DynaliteWorkerError("dynalite worker exited before it was ready")));
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  // Later failures: the clients' requests fail (connection refused) and the handlers report them; the log says why.
  worker.on("error", (error) => options.log?.(`dynalite worker failed: ${error.message}`));
  return {
    endpoint: ready.endpoint,
    port: ready.port,
    async close() {
      if (exited) return;
      const closed = new Promise<string | undefined>((resolve) => {
        worker.on("message", (message: FromDynaliteWorker) => {
          if (message.type === "closed") resolve(message.error);
        });
        void exit.then(() => resolve(undefined));
      });
      worker.postMessage({ type: "close" } satisfies ToDynaliteWorker);
      // A server that does not close within 5 s (a request stuck in LevelDB) is ended with its thread.
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      const error = await closed;
      await exit;
      clearTimeout(timer);
      if (error) throw new DynaliteWorkerError(`dynalite did not close cleanly: ${error}`);
    },
  };
}
