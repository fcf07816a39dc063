import type { Alert } from "@driftwatch/core/alerts/alert";
import type { LocalScoreSettings } from "./score-deps.ts";
import type { TumblingWindowResponse } from "./event-source-mapping.ts";

/** What the main thread gives a scoring worker at start (`score-worker.ts`). */
export interface ScoreWorkerData {
  /** The worker module the boot file (`runtime/worker-boot.mjs`) loads through tsx. */
  entry: string;
  settings: LocalScoreSettings;
  /** dynalite's endpoint: the worker has its own DynamoDB client, as each Lambda instance has. */
  dynamoEndpoint: string;
  region: string;
  /** The function's Lambda context parameters (a fresh context per invocation, made in the worker). */
  lambda: { functionName: string; timeoutMs: number; memoryLimitInMB: number };
  logLevel: string;
  metrics: "off" | "sink";
}

/** A failure carried across threads by name and message. */
export interface SerializedError {
  name: string;
  message: string;
}

/** Main thread → worker. */
export type ToScoreWorker =
  | { type: "invoke"; id: number; event: Record<string, unknown> }
  | { type: "devicesImported"; ids: readonly string[] }
  | { type: "thresholdsChanged" }
  | { type: "reply"; id: number; ok: true; value: unknown }
  | { type: "reply"; id: number; ok: false; error: SerializedError }
  | { type: "stop" };

/** Worker → main thread. */
export type FromScoreWorker =
  | { type: "ready" }
  | { type: "result"; id: number; ok: true; response: TumblingWindowResponse | undefined }
  | { type: "result"; id: number; ok: false; error: SerializedError }
  | { type: "escalate"; id: number; alert: Alert; executionName: string }
  | { type: "resolveIncident"; id: number; subject: string; rule: string; detail: string }
  | { type: "status"; op: "inc" | "set"; name: string; value: number | string }
  | { type: "log"; component: string; message: string }
  | { type: "stopped" };

export const serializeError = (error: unknown): SerializedError => ({
  name: (error as Error)?.name ?? "Error",
  message: (error as Error)?.message ?? String(error),
});

/** The error a serialized failure stands for on this side (same name and message). */
export function deserializeError(error: SerializedError): Error {
  const out = new Error(error.message);
  out.name = error.name;
  return out;
}
