// Entry of local mode's worker threads (MQTT broker, scoring handler, dynalite): workers do not inherit the main
// thread's TypeScript loader, so register tsx here, then load the TypeScript worker module named in workerData.entry.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
