// Entry of local mode's worker threads (MQTT broker, scoring handler, dynalite): workers do not inherit the main
// thread's TypeScript loader, so register tsx here, then load the TypeScript worker module named in workerData.entry.
import path from "node:path";
import process from "node:process";
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
if (process.env.DRIFTWATCH_MEMORY_PROBE) {
  // Diagnostic (issue 13): this thread's heap, every few seconds (runtime/memory-probe.ts).
  const { startMemoryProbe } = await import("./memory-probe.ts");
  startMemoryProbe(path.basename(String(workerData.entry)).replace(/\.[cm]?[jt]s$/, ""));
}
await import(workerData.entry);
