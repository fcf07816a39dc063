/**
 * The scoring handler in its own worker thread (ADR 0604, "Where the handler runs"): the event source mapping stays
 * on the main thread and posts each invocation's event here; this thread runs the SAME handler as the Lambda
 * (`createLocalScoreHandler` → `createScoreHandler`) and posts the response back, so the scorer's forest work uses
 * a second core, as each shard's Lambda instance is its own process on AWS. Like a Lambda instance it has its own
 * DynamoDB client (to dynalite), caches and detector pool; escalation starts, incident resolutions, status counters
 * and log lines go to the main thread as messages.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parentPort, workerData } from "node:worker_threads";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import { createLambdaContext } from "../runtime/lambda-context.ts";
import { createLocalScoreHandler } from "./score-deps.ts";
import {
  deserializeError,
  serializeError,
  type FromScoreWorker,
  type ScoreWorkerData,
  type ToScoreWorker,
  unpackEvent,
} from "./score-worker-protocol.ts";

const port = parentPort;
if (!port) throw new Error("score-worker must run in a worker thread");
const data = workerData as ScoreWorkerData;
const send = (message: FromScoreWorker) => port.postMessage(message);
const log = (component: string, message: string) => send({ type: "log", component, message });

configureObservability({
  logSink: (line) => log("lambda", line),
  metrics: data.metrics,
  logLevel: data.logLevel,
});

let nextCallId = 1;
const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
function call<T>(message: (id: number) => FromScoreWorker): Promise<T> {
  const id = nextCallId++;
  return new Promise<T>((resolve, reject) => {
    calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
    send(message(id));
  });
}

const dynamo = new DynamoDBClient({
  endpoint: data.dynamoEndpoint,
  region: data.region,
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
const scoring = createLocalScoreHandler({
  settings: data.settings,
  dynamo,
  escalation: {
    start: (alert, executionName) =>
      call<{ started: boolean }>((id) => ({ type: "escalate", id, alert, executionName })),
  },
  incidents: {
    resolveActive: (subject, rule, detail) =>
      call<{ resolved: boolean }>((id) => ({ type: "resolveIncident", id, subject, rule, detail })),
  },
  status: {
    inc: (name, value = 1) => send({ type: "status", op: "inc", name, value }),
    set: (name, value) => send({ type: "status", op: "set", name, value }),
  },
  log: (message) => log("scoring", message),
});

port.on("message", (message: ToScoreWorker) => {
  switch (message.type) {
    case "invoke":
      scoring.handler(unpackEvent(message.event), createLambdaContext(data.lambda)).then(
        (response) => send({ type: "result", id: message.id, ok: true, response: response ?? undefined }),
        (error: unknown) => send({ type: "result", id: message.id, ok: false, error: serializeError(error) }),
      );
      break;
    case "reply": {
      const pending = calls.get(message.id);
      calls.delete(message.id);
      if (message.ok) pending?.resolve(message.value);
      else pending?.reject(deserializeError(message.error));
      break;
    }
    case "devicesImported":
      scoring.invalidateDevices(message.ids);
      break;
    case "thresholdsChanged":
      scoring.clearThresholds();
      break;
    case "stop":
      dynamo.destroy();
      send({ type: "stopped" });
      port.close();
      break;
  }
});
send({ type: "ready" });
