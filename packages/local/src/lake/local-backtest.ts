import path from "node:path";
import { DEFAULT_STUCK_READINGS } from "@driftwatch/core/scoring/stuck-tracker";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import { DynamoDeviceRegistry } from "@driftwatch/functions/adapters/dynamo-device-registry";
import { DynamoThresholdsStore } from "@driftwatch/functions/adapters/dynamo-thresholds-store";
import { createBacktestHandler, type BacktestDeps } from "@driftwatch/functions/http/backtest";
import type { Authenticator } from "@driftwatch/functions/http/shared/auth";
import { tables } from "@driftwatch/functions/shared/tables";
import type { LocalContext } from "../runtime/context.ts";
import { DuckDbLakeReader } from "./duckdb-lake-reader.ts";

/**
 * `POST /api/backtest` in local mode: the same Lambda handler as on AWS, with DuckDB over the local lake in place of
 * Athena, the local tables, and the local scorer's settings (window, silence default).
 */
export function createLocalBacktestHandler(context: LocalContext, authenticate: Authenticator) {
  const storage = context.storage;
  if (!storage) throw new Error("the backtest API needs the storage service");
  const env = process.env;
  const deps: BacktestDeps = {
    devices: new DynamoDeviceRegistry(storage.dynamo, storage.tableNames[tables.devices.envVar]),
    thresholds: new DynamoThresholdsStore(
      storage.dynamo,
      storage.tableNames[tables.thresholds.envVar],
      (scope) => context.log("api", `invalid threshold rule ignored: ${scope}`),
    ),
    lake: new DuckDbLakeReader(path.join(context.config.dataDir, "lake"), {
      maxReadings: Number(env.DRIFTWATCH_BACKTEST_MAX_READINGS || 2_000_000),
    }),
    detectors: rcfDetectorFactory(),
    settings: {
      windowMs: context.config.windowSeconds * 1000,
      warmUpMs: Number(env.DRIFTWATCH_BACKTEST_WARMUP_HOURS ?? 6) * 3_600_000,
      silenceWindows: Number(env.DRIFTWATCH_SILENCE_WINDOWS || 3),
      stuckReadings: DEFAULT_STUCK_READINGS,
      maxRangeMs: Number(env.DRIFTWATCH_BACKTEST_MAX_RANGE_DAYS || 31) * 86_400_000,
      // No API Gateway in front locally: a longer budget, still an answer rather than a hang.
      timeBudgetMs: Number(env.DRIFTWATCH_BACKTEST_TIME_BUDGET_SECONDS || 120) * 1000,
    },
  };
  return createBacktestHandler(async () => deps, authenticate);
}
