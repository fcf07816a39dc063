import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { StatusBoard } from "../runtime/status-board.ts";

/** Where scoring reports counters and gauges: the status board, or (in the scoring worker) a relay to it. */
export type StatusSink = Pick<StatusBoard, "inc" | "set">;

/** How the scoring path's file writes (scores archive, checkpoints) retry while the runtime runs. */
export interface WriteRetryOptions {
  /** First delay (default 100 ms), doubling up to `maxDelayMs` (default 5 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up (the invocation fails and the event source mapping retries it) after this long (default 120 s). */
  maxWaitMs?: number;
  /** Shows `scoring.waiting` (writes being retried) on the status line. */
  status?: StatusSink;
  log?: (message: string) => void;
}

let waiting = 0;

/**
 * Runs `write` until it succeeds, retrying with backoff on any failure (permissions, disk full, a failed rename)
 * for up to `maxWaitMs`; the status line counts the writes waiting meanwhile. Within a 300-s scoring invocation a
 * lake that is unwritable for a while therefore delays scoring instead of failing it.
 */
export async function retryingWrite<T>(
  what: string,
  write: () => Promise<T>,
  options: WriteRetryOptions = {},
) {
  const started = Date.now();
  let delay = options.initialDelayMs ?? 100;
  let counted = false;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await write();
        if (attempt > 1) options.log?.(`${what}: written after ${attempt} attempts`);
        return result;
      } catch (error) {
        if (Date.now() - started + delay > (options.maxWaitMs ?? 120_000)) throw error;
        if (!counted) {
          counted = true;
          options.status?.set("scoring.waiting", ++waiting);
          options.log?.(`${what} failed (${(error as Error).message}); retrying while running`);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, options.maxDelayMs ?? 5_000);
      }
    }
  } finally {
    if (counted) options.status?.set("scoring.waiting", --waiting);
  }
}

/** Writes `body` to `file` atomically (temporary file, then rename); the temporary file never stays behind. */
export async function writeFileAtomic(file: string, body: Uint8Array | string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  try {
    await fs.promises.writeFile(tmp, body);
    await fs.promises.rename(tmp, file);
  } catch (error) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Removes `*.tmp` files a killed process left under `dir` (recursively); returns how many. */
export async function removeTemporaryFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = (await fs.promises.readdir(dir, { recursive: true })) as string[];
  } catch {
    return 0;
  }
  const stale = names.filter((name) => name.endsWith(".tmp"));
  await Promise.all(stale.map((name) => fs.promises.rm(path.join(dir, name), { force: true })));
  return stale.length;
}
