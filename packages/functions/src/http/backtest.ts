import { AthenaClient } from "@aws-sdk/client-athena";
import { DEFAULT_STUCK_READINGS } from "@driftwatch/core/scoring/stuck-tracker";
import { z } from "zod";
import { runBacktest, type BacktestReport } from "@driftwatch/core/backtest/backtest";
import { ReplayAbortedError } from "@driftwatch/core/backtest/replay";
import { backtestRequestSchema } from "@driftwatch/core/backtest/backtest-request";
import type { DeviceRegistry } from "@driftwatch/core/ports/device-registry";
import { RangeTooLargeError, type LakeReader } from "@driftwatch/core/ports/lake-reader";
import type { ThresholdsStore } from "@driftwatch/core/ports/thresholds-store";
import type { DetectorFactory } from "@driftwatch/core/scoring/detector-pool";
import { rcfDetectorFactory } from "@driftwatch/core/scoring/rcf-detector-factory";
import { scopeKeysOf } from "@driftwatch/core/thresholds/threshold-rule";
import { AthenaLakeReader } from "../adapters/athena-lake-reader.ts";
import { lazy, positiveInt, readConfig, required } from "../shared/config.ts";
import { tracer } from "../shared/observability.ts";
import { createAuthenticator, verifierFromEnv, type Authenticator } from "./shared/auth.ts";
import { awsApiDeps } from "./shared/deps.ts";
import { BadRequestError, createHttpApi, NotFoundError, reply } from "./shared/http-api.ts";

export interface BacktestSettings {
  /** Tumbling window of the scoring path, ms. */
  windowMs: number;
  /** Readings before `from` that warm the detector and rule state (ADR 0903), ms. */
  warmUpMs: number;
  /** The scorer's defaults (so the backtest applies what the live scorer applies). */
  silenceWindows: number;
  stuckReadings: number;
  /** Longest range one request may cover, ms; longer → 400 "narrow the range" before the lake is read. Default 31 d. */
  maxRangeMs?: number;
  /**
   * Time one request may take, from its start to the answer, ms; a backtest still replaying then stops with a 400
   * "narrow the range" (on AWS inside API Gateway's 30 s integration timeout). Default 25 s.
   */
  timeBudgetMs?: number;
}

export const DEFAULT_MAX_RANGE_MS = 31 * 86_400_000;
export const DEFAULT_TIME_BUDGET_MS = 25_000;

export interface BacktestDeps {
  devices: DeviceRegistry;
  thresholds: ThresholdsStore;
  lake: LakeReader;
  /** The scoring Lambda's detector factory. */
  detectors: DetectorFactory;
  settings: BacktestSettings;
}

/**
 * `POST /api/backtest` `{deviceId, from, to, rule}` (viewers may run it: it changes nothing): reads the device's
 * readings of the range (plus the warm-up before it) and the live detector's archived verdicts on them from the lake,
 * and runs them through the scoring path's rules with the current thresholds and with `rule` as the device's own rule
 * (on the archived verdicts when every reading of the range has one, else on a forest warmed before it: `detector`). Answers `{readings, current, candidate, ...}`
 * with, per rule set, `alerts`, `byRule`, `byHour`, `byDay`, `incidents`, `readingsInvolved`, `noiseWarning`.
 * A range longer than `maxRangeMs`, or one the lake reader refuses (too many readings or bytes, or too slow), is a
 * 400 telling to narrow it.
 */
export function createBacktestHandler(getDeps: () => Promise<BacktestDeps>, authenticate: Authenticator) {
  return createHttpApi(
    [
      {
        method: "POST",
        path: "/api/backtest",
        access: "read",
        handler: async ({ body }) => reply(200, await backtest(await getDeps(), body)),
      },
    ],
    authenticate,
  );
}

async function backtest(deps: BacktestDeps, body: unknown): Promise<BacktestReport> {
  const request = backtestRequestSchema.parse(body ?? {});
  const budgetMs = deps.settings.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS;
  const signal = AbortSignal.timeout(budgetMs);
  const device = await deps.devices.get(request.deviceId);
  if (!device) throw new NotFoundError(`device ${request.deviceId} is not registered`);
  const fromMs = Date.parse(request.from);
  const toMs = Date.parse(request.to);
  const { settings } = deps;
  const maxRangeMs = settings.maxRangeMs ?? DEFAULT_MAX_RANGE_MS;
  if (toMs - fromMs > maxRangeMs) {
    const days = (ms: number) => `${Math.round((ms / 86_400_000) * 10) / 10} days`;
    throw new BadRequestError(
      `the range covers ${days(toMs - fromMs)}, more than the ${days(maxRangeMs)} one backtest may cover: narrow the range`,
      { issues: [{ path: "to", message: "narrow the range" }] },
    );
  }
  const range = { fromMs: fromMs - settings.warmUpMs, toMs, deviceIds: [device.deviceId] };
  // The readings, and the live detector's archived verdicts on them (used when every reading of the range has one).
  const readings = await collect(deps.lake.readReadings(range));
  const verdicts = deps.lake.readVerdicts ? await collect(deps.lake.readVerdicts(range)) : [];
  const rules = await deps.thresholds.getMany(scopeKeysOf(device));
  try {
    return await runBacktest(
      { device, readings, verdicts, rules, candidate: request.rule, fromMs, toMs },
      {
        windowMs: settings.windowMs,
        silenceWindows: settings.silenceWindows,
        stuckReadings: settings.stuckReadings,
        detectors: deps.detectors,
        signal,
      },
    );
  } catch (error) {
    if (error instanceof ReplayAbortedError) {
      throw new BadRequestError(
        `the backtest of ${readings.length} readings did not finish within ${Math.round(budgetMs / 1000)} s: narrow the range`,
        { cause: error, issues: [{ path: "to", message: "narrow the range" }] },
      );
    }
    throw error;
  }
}

/** All pages of a lake read; a reader's refusal of the range's size is a 400 telling to narrow it. */
async function collect<T>(pages: AsyncIterable<readonly T[]>): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const page of pages) for (const item of page) out.push(item);
  } catch (error) {
    if (error instanceof RangeTooLargeError) {
      throw new BadRequestError(error.message, {
        cause: error,
        issues: [{ path: "from", message: "narrow the range" }],
      });
    }
    throw error;
  }
  return out;
}

/** Environment of the backtest function (set by stacks/Api.ts). */
export const backtestEnv = {
  database: "LAKE_DATABASE",
  workGroup: "LAKE_WORKGROUP",
  maxReadings: "BACKTEST_MAX_READINGS",
  maxBytesScanned: "BACKTEST_MAX_BYTES_SCANNED",
  maxWaitSeconds: "BACKTEST_MAX_WAIT_SECONDS",
  warmUpHours: "BACKTEST_WARMUP_HOURS",
  maxRangeDays: "BACKTEST_MAX_RANGE_DAYS",
  timeBudgetSeconds: "BACKTEST_TIME_BUDGET_SECONDS",
} as const;

/** AWS wiring, built once per cold start. */
export const awsBacktestDeps = lazy(async (): Promise<BacktestDeps> => {
  const env = readConfig({
    LAKE_DATABASE: required(),
    LAKE_WORKGROUP: required(),
    BACKTEST_MAX_READINGS: positiveInt(500_000),
    BACKTEST_MAX_BYTES_SCANNED: positiveInt(1024 ** 3),
    BACKTEST_MAX_WAIT_SECONDS: positiveInt(20),
    BACKTEST_WARMUP_HOURS: z.coerce.number().int().nonnegative().default(6),
    BACKTEST_MAX_RANGE_DAYS: positiveInt(31),
    BACKTEST_TIME_BUDGET_SECONDS: positiveInt(25),
    WINDOW_SECONDS: positiveInt(60),
    SILENCE_WINDOWS: z.coerce.number().int().nonnegative().default(3),
    STUCK_READINGS: z.coerce.number().int().nonnegative().default(DEFAULT_STUCK_READINGS),
  });
  return {
    devices: await awsApiDeps.devices(),
    thresholds: await awsApiDeps.thresholds(),
    lake: new AthenaLakeReader(tracer.captureAWSv3Client(new AthenaClient({})), {
      database: env.LAKE_DATABASE,
      workGroup: env.LAKE_WORKGROUP,
      maxReadings: env.BACKTEST_MAX_READINGS,
      maxBytesScanned: env.BACKTEST_MAX_BYTES_SCANNED,
      maxWaitMs: env.BACKTEST_MAX_WAIT_SECONDS * 1000,
    }),
    detectors: rcfDetectorFactory(),
    settings: {
      windowMs: env.WINDOW_SECONDS * 1000,
      warmUpMs: env.BACKTEST_WARMUP_HOURS * 3_600_000,
      silenceWindows: env.SILENCE_WINDOWS,
      stuckReadings: env.STUCK_READINGS,
      maxRangeMs: env.BACKTEST_MAX_RANGE_DAYS * 86_400_000,
      timeBudgetMs: env.BACKTEST_TIME_BUDGET_SECONDS * 1000,
    },
  };
});

export const handler = createBacktestHandler(awsBacktestDeps, createAuthenticator(verifierFromEnv));
