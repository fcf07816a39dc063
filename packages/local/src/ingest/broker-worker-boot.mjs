// Entry of the MQTT broker worker thread: workers do not inherit the main thread's TypeScript loader, so
// register tsx here, then load the TypeScript worker module named in workerData.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
