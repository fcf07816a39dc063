/** Messages between the dynalite worker (`dynalite-worker.ts`) and the main thread. Plain data (structured clone). */

export interface DynaliteWorkerData {
  /** The worker module the boot file (`runtime/worker-boot.mjs`) loads through tsx. */
  entry: string;
  dir?: string;
  host?: string;
  port?: number;
}

/** Main → worker. */
export type ToDynaliteWorker = { type: "close" };

/** Worker → main. */
export type FromDynaliteWorker =
  | { type: "ready"; endpoint: string; port: number }
  | { type: "fatal"; message: string }
  | { type: "closed"; error?: string };
