import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { systemClock, type Clock } from "@driftwatch/core/ports/clock";
import type { DeviceRegistry, DeviceRegistryWriter } from "@driftwatch/core/ports/device-registry";
import type { IncidentStore } from "@driftwatch/core/ports/incident-store";
import type { MetricsStore } from "@driftwatch/core/ports/metrics-store";
import type { TaskTokens } from "@driftwatch/core/ports/task-tokens";
import type {
  ThresholdsHistoryStore,
  ThresholdsStore,
  ThresholdsWriter,
} from "@driftwatch/core/ports/thresholds-store";
import type { Device } from "@driftwatch/core/telemetry/device";
import { DEFAULT_STUCK_READINGS } from "@driftwatch/core/scoring/stuck-tracker";
import { z } from "zod";
import { DynamoDeviceCatalog } from "../../adapters/dynamo-device-catalog.ts";
import { DynamoDeviceRegistry } from "../../adapters/dynamo-device-registry.ts";
import { DynamoMetricsStore } from "../../adapters/dynamo-metrics-store.ts";
import { DynamoThresholdsHistory, DynamoThresholdsStore } from "../../adapters/dynamo-thresholds-store.ts";
import { lazy, readConfig, required } from "../../shared/config.ts";
import { logger, tracer } from "../../shared/observability.ts";
import { tables } from "../../shared/tables.ts";
import { awsStore, awsTokens } from "../../stepfunctions/deps.ts";

/** What the operator API handlers need; each handler asks for its own subset. */
export interface ApiDeps {
  devices: DeviceRegistry & DeviceRegistryWriter;
  catalog: { list(): Promise<Device[]>; lastSeen(deviceId: string): Promise<string | undefined> };
  metrics: MetricsStore;
  thresholds: ThresholdsStore & ThresholdsWriter;
  history: ThresholdsHistoryStore;
  incidents: IncidentStore;
  tokens: TaskTokens;
  clock: Clock;
  /** The scorer's defaults shown as scope `default` in effective settings. */
  defaults: { silenceWindows: number; stuckReadings: number };
  /** Local mode: drop caches at once after an edit (on AWS the scorer's cache TTL applies). */
  onThresholdsChanged?: () => void;
  onDevicesImported?: (deviceIds: readonly string[]) => void;
}

export type ApiDepsProvider<K extends keyof ApiDeps> = () => Promise<
  Pick<ApiDeps, K> & Partial<Pick<ApiDeps, "onThresholdsChanged" | "onDevicesImported">>
>;

const dynamo = lazy(async () => tracer.captureAWSv3Client(new DynamoDBClient({})));

const tableName = (envVar: string) => readConfig({ [envVar]: required() })[envVar] as string;

const defaults = lazy(async () => {
  const env = readConfig({
    SILENCE_WINDOWS: z.coerce.number().int().nonnegative().default(3),
    STUCK_READINGS: z.coerce.number().int().nonnegative().default(DEFAULT_STUCK_READINGS),
  });
  return { silenceWindows: env.SILENCE_WINDOWS, stuckReadings: env.STUCK_READINGS };
});

/** Each piece built once per cold start, on first use, from the table names in the environment. */
export const awsApiDeps = {
  devices: lazy(async () => new DynamoDeviceRegistry(await dynamo(), tableName(tables.devices.envVar))),
  catalog: lazy(
    async () =>
      new DynamoDeviceCatalog(
        await dynamo(),
        tableName(tables.devices.envVar),
        tableName(tables.metrics.envVar),
      ),
  ),
  metrics: lazy(async () => new DynamoMetricsStore(await dynamo(), tableName(tables.metrics.envVar))),
  thresholds: lazy(
    async () =>
      new DynamoThresholdsStore(await dynamo(), tableName(tables.thresholds.envVar), (scope) =>
        logger.warn("invalid threshold rule ignored", { scope }),
      ),
  ),
  history: lazy(
    async () => new DynamoThresholdsHistory(await dynamo(), tableName(tables.thresholdHistory.envVar)),
  ),
  incidents: awsStore,
  tokens: awsTokens,
  clock: async () => systemClock,
  defaults,
};

/** A provider of the named pieces of `awsApiDeps`. */
export function awsDeps<K extends keyof typeof awsApiDeps>(...keys: K[]): ApiDepsProvider<K> {
  return lazy(async () => {
    const entries = await Promise.all(keys.map(async (key) => [key, await awsApiDeps[key]()] as const));
    return Object.fromEntries(entries) as Pick<ApiDeps, K>;
  });
}
