import fs from "node:fs";
import v8 from "node:v8";
import { isMainThread, threadId } from "node:worker_threads";

/**
 * A diagnostic for issue 13 (what grows per message, per thread): with `DRIFTWATCH_MEMORY_PROBE=<file>` set, every
 * thread of local mode (main, broker, scoring workers, dynalite) appends one JSON line every
 * `DRIFTWATCH_MEMORY_PROBE_MS` (default 5,000 ms) to `<file>`: its V8 heap (used / total), external and
 * array-buffer bytes, and (main thread only) the process's RSS. Each line is one small `appendFileSync`, so lines
 * from the threads do not interleave. While `<file>.snap` exists, each thread also writes a heap snapshot
 * (`v8.writeHeapSnapshot`) once per distinct tag written in that file (`<tag> [thread name prefix]`: e.g. `b main`
 * for the main thread only — a snapshot stops its thread for seconds), next to `<file>`, named by thread and content —
 * two snapshots taken minutes apart, compared by constructor, show what accumulates. Off (nothing runs) when unset.
 * Returns a function that stops it.
 */
export function startMemoryProbe(thread: string): () => void {
  const file = process.env.DRIFTWATCH_MEMORY_PROBE;
  if (!file) return () => {};
  const everyMs = Number(process.env.DRIFTWATCH_MEMORY_PROBE_MS || 5_000);
  const started = Date.now();
  let snapshotTaken = "";
  const timer = setInterval(() => {
    const heap = v8.getHeapStatistics();
    const usage = process.memoryUsage();
    const line = {
      t: Math.round((Date.now() - started) / 100) / 10,
      at: Date.now(),
      thread: `${thread}#${threadId}`,
      heapUsedMiB: mib(heap.used_heap_size),
      heapTotalMiB: mib(heap.total_heap_size),
      externalMiB: mib(usage.external),
      arrayBuffersMiB: mib(usage.arrayBuffers),
      ...(isMainThread ? { rssMiB: mib(usage.rss) } : {}),
    };
    try {
      fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
      const trigger = `${file}.snap`;
      if (fs.existsSync(trigger)) {
        // "<tag> [thread name prefix]": a new tag snapshots every thread, or only those whose name starts so.
        const [tag = "1", only = ""] = fs.readFileSync(trigger, "utf8").trim().split(/\s+/);
        if (tag !== snapshotTaken && thread.startsWith(only)) {
          snapshotTaken = tag;
          v8.writeHeapSnapshot(`${file}.${thread}-${threadId}.${tag}.heapsnapshot`);
        }
      }
    } catch {
      // a diagnostic: never fails the thread
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

const mib = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;
