import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "@driftwatch/core/alerts/alert";
import { encodeEnvelope } from "@driftwatch/core/telemetry/envelope";
import { thresholdRuleSchema } from "@driftwatch/core/thresholds/threshold-rule";
import { DynamoDeviceRegistry } from "@driftwatch/functions/adapters/dynamo-device-registry";
import { DynamoThresholdsStore } from "@driftwatch/functions/adapters/dynamo-thresholds-store";
import { configureObservability } from "@driftwatch/functions/shared/observability";
import { createLambdaContext, LOCAL_REGION } from "../packages/local/src/runtime/lambda-context.ts";
import { StatusBoard } from "../packages/local/src/runtime/status-board.ts";
import {
  createLocalScoreHandler,
  type LocalScoreSettings,
} from "../packages/local/src/scoring/score-deps.ts";
import {
  startScoreWorkers,
  type ScoreWorkerPool,
} from "../packages/local/src/scoring/score-worker-client.ts";
import { startDynalite, type DynaliteServer } from "../packages/local/src/storage/dynalite-server.ts";
import { ensureTables, listedTables, tableEnv } from "../packages/local/src/storage/local-tables.ts";

/**
 * The scoring handler in a worker thread (ADR 0604, "Where the scoring handler runs"): the same invocation gives
 * the same response as the handler on the main thread; escalation starts and status counters reach the main
 * thread; a threshold edit reaches the worker's cache.
 */
const WINDOW_S = 60;
const stations = ["wk-a", "wk-b"];
let dynalite: DynaliteServer;
let dynamo: DynamoDBClient;
let tableNames: Record<string, string>;
const dirs: string[] = [];
const pools: ScoreWorkerPool[] = [];

beforeAll(async () => {
  configureObservability({ logSink: () => {}, metrics: "off" });
  dynalite = await startDynalite();
  dynamo = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const definitions = listedTables();
  await ensureTables(dynamo, "wk", definitions);
  tableNames = tableEnv("wk", definitions);
  await new DynamoDeviceRegistry(dynamo, tableNames.DEVICES_TABLE).putMany(
    stations.map((deviceId) => ({ deviceId, manufacturer: "Davis", model: "Vantage Pro2", site: "seattle" })),
  );
});

afterAll(async () => {
  for (const pool of pools.splice(0)) await pool.stop();
  dynamo?.destroy();
  await dynalite?.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function settings(): LocalScoreSettings {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-score-worker-"));
  dirs.push(dataDir);
  return {
    dataDir,
    windowSeconds: WINDOW_S,
    silenceWindows: 0,
    deviceNegativeCacheTtlSeconds: 5,
    thresholdsCacheSeconds: 30,
    tableNames,
    tokenKey: new Uint8Array(32).fill(7),
  };
}

/** A tumbling-window event of `values` readings per station, as the event source mapping builds it. */
function event(windowStartMs: number, values: number[], final = false): Record<string, unknown> {
  let seq = 49_600_000_000_000_000_000_000_000_000_000n;
  const Records = final
    ? []
    : values.flatMap((value, i) =>
        stations.map((station) => {
          seq += 1n;
          const arrivalMs = windowStartMs + 1000 + i * 100;
          const envelope = encodeEnvelope(
            `weather/wa/seattle/${station}/temp/s-${station}`,
            JSON.stringify({ value, smoothed: value, direction: 0, timestamp: arrivalMs - 50 }),
            arrivalMs - 10,
          );
          return {
            kinesis: {
              kinesisSchemaVersion: "1.0",
              partitionKey: station,
              sequenceNumber: seq.toString(),
              data: Buffer.from(JSON.stringify(envelope)).toString("base64"),
              approximateArrivalTimestamp: arrivalMs / 1000,
            },
            eventSource: "aws:kinesis",
            eventID: `shardId-000000000000:${seq}`,
          };
        }),
      );
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
  return {
    Records,
    window: { start: iso(windowStartMs), end: iso(windowStartMs + WINDOW_S * 1000) },
    state: {},
    shardId: "shardId-000000000000",
    isFinalInvokeForWindow: final,
    isWindowTerminatedEarly: false,
  };
}

const lambdaContext = () => createLambdaContext({ functionName: "score", timeoutMs: 60_000 });

describe("the scoring handler in a worker thread", () => {
  /** What a score worker is started with here: this file's settings and dynalite, quiet logs, no metrics. */
  const workerData = () => ({
    settings: settings(),
    dynamoEndpoint: dynalite.endpoint,
    region: LOCAL_REGION,
    lambda: { functionName: "score", timeoutMs: 60_000, memoryLimitInMB: 1769 },
    logLevel: "SILENT" as const,
    metrics: "off" as const,
  });

  it("answers an invocation as the handler on the main thread does, and reports to the main thread", async () => {
    const windowStartMs = Math.floor(Date.now() / (WINDOW_S * 1000)) * WINDOW_S * 1000 - WINDOW_S * 1000;
    const values = [20, 21, 22, 21.5, 20.5];
    const noEscalation = { start: async () => ({ started: true }) };
    const noIncidents = { resolveActive: async () => ({ resolved: false }) };

    const inlineStatus = new StatusBoard();
    const inline = createLocalScoreHandler({
      settings: settings(),
      dynamo,
      escalation: noEscalation,
      incidents: noIncidents,
      status: inlineStatus,
      log: () => {},
    });
    const inlineResponse = await inline.handler(event(windowStartMs, values), lambdaContext());

    const status = new StatusBoard();
    const pool = startScoreWorkers({
      workers: 1,
      shardIds: ["shardId-000000000000"],
      data: workerData(),
      escalation: noEscalation,
      incidents: noIncidents,
      status,
      log: () => {},
    });
    pools.push(pool);
    const workerResponse = await pool.handler(event(windowStartMs, values), lambdaContext());

    expect(workerResponse).toEqual(inlineResponse);
    expect((workerResponse as { state: object }).state).not.toEqual({});
    expect(status.get("scoring.records")).toBe(values.length * stations.length);
    expect(status.get("scoring.records")).toBe(inlineStatus.get("scoring.records"));
  });

  it("starts escalations through the main thread and sees a threshold edit at once", async () => {
    const windowStartMs = Math.floor(Date.now() / (WINDOW_S * 1000)) * WINDOW_S * 1000 - 2 * WINDOW_S * 1000;
    const thresholds = new DynamoThresholdsStore(dynamo, tableNames.THRESHOLDS_TABLE, () => {});
    await thresholds.put(thresholdRuleSchema.parse({ scope: "global", bounds: { temp: { max: 500 } } }));
    const started: { alert: Alert; name: string }[] = [];
    const pool = startScoreWorkers({
      workers: 1,
      shardIds: ["shardId-000000000000"],
      data: workerData(),
      escalation: {
        start: async (alert, name) => {
          started.push({ alert, name });
          return { started: true };
        },
      },
      incidents: { resolveActive: async () => ({ resolved: false }) },
      status: new StatusBoard(),
      log: () => {},
    });
    pools.push(pool);
    // 95 is within the global bound of 500: no alert. The worker caches that rule (30 s).
    await pool.handler(event(windowStartMs, [20, 95]), lambdaContext());
    expect(started).toEqual([]);
    // Tighten the bound through the store, then tell the worker, as the local thresholds API does.
    await thresholds.put(thresholdRuleSchema.parse({ scope: "global", bounds: { temp: { max: 90 } } }));
    pool.clearThresholds();
    await pool.handler(event(windowStartMs + WINDOW_S * 1000, [20, 95]), lambdaContext());
    expect(started.map((s) => s.alert.deviceId).sort()).toEqual([...stations].sort());
    expect(started.every((s) => s.alert.rule.length > 0 && s.name === s.alert.alertId)).toBe(true);
  });
});
