import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Alert } from "@driftwatch/core/alerts/alert";
import type { Notification } from "@driftwatch/core/escalation/notification";
import type { IncidentView } from "@driftwatch/core/incidents/incident-view";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import type { LocalConfig } from "../../packages/local/src/runtime/config.ts";
import type { LocalContext } from "../../packages/local/src/runtime/context.ts";
import { HttpRouter } from "../../packages/local/src/runtime/http-router.ts";
import { registerApiRoutes } from "../../packages/local/src/runtime/api-routes.ts";
import { StatusBoard } from "../../packages/local/src/runtime/status-board.ts";
import { startDynalite, type DynaliteServer } from "../../packages/local/src/storage/dynalite-server.ts";
import type { LocalStorage } from "../../packages/local/src/storage/local-storage.ts";
import { ensureTables, listedTables, tableEnv } from "../../packages/local/src/storage/local-tables.ts";
import {
  startEscalation,
  type EscalationServiceOptions,
  type LocalEscalationService,
} from "../../packages/local/src/escalation/index.ts";

/**
 * The escalation service on real stand-ins: dynalite (in memory, port 0), the local HTTP router (port 0), the
 * state machine synthesized from the CDK construct and run by aws-local-stepfunctions. Only the escalation
 * service is started (not ingest/scoring), so tests drive it with alerts directly.
 */
export interface EscalationHarness {
  dataDir: string;
  baseUrl: string;
  /** `Authorization` header of an operator token signed with the local key (the API needs one). */
  auth(user?: string): Promise<{ authorization: string }>;
  context: LocalContext;
  service: LocalEscalationService;
  logLines: string[];
  alert(deviceId: string, overrides?: Partial<Alert>): Alert;
  start(alert: Alert): Promise<{ started: boolean }>;
  incidents(): Promise<IncidentView[]>;
  outbox(): Notification[];
  waitFor<T>(
    what: string | (() => string),
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  stop(): Promise<void>;
}

let alertSeq = 0;

export async function startEscalationHarness(
  options: EscalationServiceOptions & { ackTimeoutSeconds?: number; env?: Record<string, string> } = {},
): Promise<EscalationHarness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-escalation-"));
  const dynalite: DynaliteServer = await startDynalite();
  const dynamo = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  await ensureTables(dynamo, "local", listedTables());
  const config: LocalConfig = {
    dataDir,
    host: "127.0.0.1",
    mqttPort: 0,
    httpPort: 0,
    windowSeconds: 60,
    firehoseBufferSeconds: 1,
    firehoseBufferBytes: 1024 * 1024,
    ackTimeoutSeconds: options.ackTimeoutSeconds ?? 2,
    stage: "local",
  } as LocalConfig;
  const savedEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(options.env ?? {})) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  const logLines: string[] = [];
  configureObservability({ logSink: (line) => logLines.push(line), metrics: "off" });
  const http = new HttpRouter();
  const context: LocalContext = {
    config,
    status: new StatusBoard(),
    http,
    setHandlerEnv: (values) => Object.assign(process.env, values),
    ruleTargets: [],
    storage: {
      dynamoEndpoint: dynalite.endpoint,
      dynamo,
      tableNames: tableEnv("local"),
      keysDir: path.join(dataDir, "keys"),
    } as unknown as LocalStorage,
    log: (component, message) => logLines.push(`[${component}] ${message}`),
  };
  const service = await startEscalation(context, options);
  const identity = await registerApiRoutes(context);
  const server = await http.listen(0, "127.0.0.1");
  config.httpPort = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${config.httpPort}`;

  const waitFor = async <T>(
    what: string | (() => string),
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs = 20_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${typeof what === "function" ? what() : what}\n${logLines.slice(-20).join("\n")}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const auth = async (user = "ops") => ({
    authorization: `Bearer ${(await identity.sign({ user, role: "operator" })).token}`,
  });
  return {
    dataDir,
    baseUrl,
    auth,
    context,
    service,
    logLines,
    alert(deviceId, overrides = {}) {
      alertSeq += 1;
      return {
        alertId: `alert-${deviceId}-${Date.now().toString(36)}-${alertSeq}`,
        kind: "anomaly",
        rule: "anomaly",
        deviceId,
        manufacturer: "Acme",
        model: "T-1000",
        ts: new Date().toISOString(),
        windowStart: new Date().toISOString(),
        score: 3.2,
        metrics: { temperature: 41.5 },
        attribution: [{ metric: "temperature", value: 41.5, contribution: 3.0, direction: "HIGH" }],
        causes: [],
        message: `anomaly on ${deviceId}`,
        ...overrides,
      };
    },
    start: (alert) => service.engine.start(alert, alert.alertId),
    async incidents() {
      const res = await fetch(`${baseUrl}/api/incidents`, { headers: await auth() });
      if (!res.ok) throw new Error(`GET /api/incidents → ${res.status}`);
      return (await res.json()) as IncidentView[];
    },
    outbox() {
      if (!fs.existsSync(service.outboxDir)) return [];
      return fs
        .readdirSync(service.outboxDir)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(service.outboxDir, f), "utf8")) as Notification);
    },
    waitFor,
    async stop() {
      await service.stop();
      await http.close();
      dynamo.destroy();
      await dynalite.close();
      for (const [k, v] of Object.entries(savedEnv)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      configureObservability({});
    },
  };
}
