/**
 * dynalite (the DynamoDB API on LevelDB) in its own worker thread (issue 13): its request parsing, validation,
 * LevelDB calls and big-number arithmetic used about 13 % of the main thread at 5,000 msg/s, where the rule routing,
 * the stream and the lake writer run. The server is the same `startDynalite`; every client (the main thread's, each
 * scoring worker's) reaches it over HTTP as before, as Lambda functions reach DynamoDB over the network.
 */
import { parentPort, workerData } from "node:worker_threads";
import { startDynalite } from "./dynalite-server.ts";
import type { DynaliteWorkerData, FromDynaliteWorker, ToDynaliteWorker } from "./dynalite-protocol.ts";

const port = parentPort;
if (!port) throw new Error("dynalite-worker must run in a worker thread");
const data = workerData as DynaliteWorkerData;
const send = (message: FromDynaliteWorker) => port.postMessage(message);

try {
  const server = await startDynalite({ dir: data.dir, host: data.host, port: data.port });
  port.on("message", (message: ToDynaliteWorker) => {
    if (message.type !== "close") return;
    server.close().then(
      () => {
        send({ type: "closed" });
        port.close();
      },
      (error: Error) => {
        send({ type: "closed", error: error.message });
        port.close();
      },
    );
  });
  send({ type: "ready", endpoint: server.endpoint, port: server.port });
} catch (error) {
  send({ type: "fatal", message: (error as Error).message });
  port.close();
}
