import fs from "node:fs";
import path from "node:path";
import type { Envelope } from "@driftwatch/core/telemetry/envelope";
import type { EscalationStarter } from "@driftwatch/core/ports/escalation-starter";
import type { IncidentStore } from "@driftwatch/core/ports/incident-store";
import type { TaskTokens } from "@driftwatch/core/ports/task-tokens";
import type { LocalConfig } from "./config.ts";
import type { HttpRouter } from "./http-router.ts";
import type { StatusBoard } from "./status-board.ts";
import type { LocalStorage } from "../storage/local-storage.ts";
import type { LocalKinesisStream } from "../scoring/local-stream.ts";

/** A running piece of local mode. `stop` flushes what is buffered and releases ports. */
export interface LocalService {
  name: string;
  stop(): Promise<void>;
}

/** An IoT rule action: where rule routing delivers each message (the Firehose emulator, the Kinesis stream). */
export interface RuleTarget {
  name: string;
  deliver(envelope: Envelope, partitionKey: string): Promise<void>;
  /**
   * True for a target that takes every message (the Firehose stream: it turns unknown topics and messages
   * without a device id into error records). Other targets (the Kinesis stream) only receive messages that
   * match a topic rule and have a partition key (the device id), as the IoT rules' Kinesis actions do.
   */
  catchAll?: boolean;
  /**
   * With `catchAll`: only the messages no other target carries (no rule matched, or no partition key). The
   * Firehose stream when the lake is fed from the telemetry stream (lake feed `stream`, ADR 1001).
   */
  unmatchedOnly?: boolean;
}

/**
 * Shared by the services of local mode. Services are started in order (storage → escalation → scoring →
 * ingest → http) and may publish what later services need here (rule targets, the escalation starter).
 */
export interface LocalContext {
  config: LocalConfig;
  status: StatusBoard;
  http: HttpRouter;
  /**
   * Environment for the Lambda handlers run in-process (table names, endpoints of the local stand-ins).
   * Services add to it before they import their handlers; it is applied to `process.env`.
   */
  setHandlerEnv(values: Record<string, string>): void;
  ruleTargets: RuleTarget[];
  /**
   * Set by the storage service (started first): the DynamoDB API endpoint and client, table names, the device
   * registry, and the local stand-ins of the KMS keys (vault data keys, token key, raw-zone cipher).
   */
  storage?: LocalStorage;
  /** Set by the scoring service: the `telemetry` stream (the stream-fed lake writer also consumes it). */
  telemetryStream?: LocalKinesisStream;
  /** Set by the escalation service; used by the scoring handler's local wiring. */
  escalationStarter?: EscalationStarter;
  /** Set by the escalation service: the incident store and task tokens the incidents API acts on. */
  incidents?: { store: IncidentStore; tokens: TaskTokens };
  /** Called after a threshold edit through the API (the scorer drops its cached rules at once). */
  thresholdsChanged?: (() => void)[];
  /** Append a line to `$DATA_DIR/logs/local.log` (handler logs also go there, never to the status line). */
  log(component: string, message: string): void;
}

export function createLogSink(dataDir: string): { log: LocalContext["log"]; file: string; close(): void } {
  const dir = path.join(dataDir, "logs");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "local.log");
  const stream = fs.createWriteStream(file, { flags: "a" });
  return {
    file,
    log: (component, message) => {
      if (!stream.writableEnded) stream.write(`${new Date().toISOString()} [${component}] ${message}\n`);
    },
    close: () => stream.end(),
  };
}
