import path from "node:path";
import { z } from "zod";
import type { LakeObjectStore } from "@driftwatch/core/ports/lake-object-store";
import { createLakeWriteHandler } from "@driftwatch/functions/kinesis/lake-write";
import type { TransformDeps } from "@driftwatch/functions/firehose/transform";
import { readConfig } from "@driftwatch/functions/shared/config";
import type { LocalContext } from "../runtime/context.ts";
import { createLambdaContext } from "../runtime/lambda-context.ts";
import type { CachedRegistry } from "@driftwatch/core/telemetry/cached-registry";
import { EventSourceMappingEmulator } from "../scoring/event-source-mapping.ts";
import { warmCaches } from "../scoring/score-deps.ts";
import type { LocalKinesisStream } from "../scoring/local-stream.ts";
import type { ZoneCipher } from "../storage/zone-cipher.ts";
import { LakeWriter } from "./lake-writer.ts";

/** The consumer name the lake writer acknowledges stream records as (`LocalKinesisStream.registerConsumer`). */
export const LAKE_CONSUMER = "lake";

/**
 * How readings reach the lake, as the Ingest stack's `lake.feed` stage option (ADR 1001): `stream` (production's
 * and local mode's default) — the lake writer consumes the telemetry stream; `firehose` — the IoT rules' Firehose
 * action and the transformation, as before. `DRIFTWATCH_LAKE_FEED` picks it locally.
 */
export function localLakeFeed(env: NodeJS.ProcessEnv = process.env): "stream" | "firehose" {
  return readConfig({ DRIFTWATCH_LAKE_FEED: z.enum(["stream", "firehose"]).default("stream") }, env)
    .DRIFTWATCH_LAKE_FEED;
}

/**
 * Local lake objects: files under `$DATA_DIR/lake/` with the S3 keys (atomic, a rewrite replaces); raw/ objects are
 * sealed with the local raw-zone key and end in `.enc`, as the Firehose emulator writes them (ADR 0401).
 */
export class LocalLakeObjects implements LakeObjectStore {
  constructor(
    readonly writer: LakeWriter,
    private readonly rawCipher: ZoneCipher,
  ) {}

  async put(object: { zone: "readings" | "errors" | "raw"; key: string; body: Uint8Array }): Promise<void> {
    if (object.zone === "raw")
      await this.writer.put(`${object.key}.enc`, this.rawCipher.encrypt(object.body));
    else await this.writer.put(object.key, object.body);
  }
}

/**
 * Mounts the SAME lake-writer handler as on AWS (`createLakeWriteHandler`) on the local telemetry stream through
 * the event source mapping emulator, with its own checkpoint (`checkpoints/esm-lake/`): no bisection and retries
 * until the batch is written (a retried batch rewrites the same objects), as the Ingest stack configures it.
 */
export async function startStreamLake(
  context: LocalContext,
  options: {
    stream: LocalKinesisStream;
    deps: TransformDeps;
    registry?: CachedRegistry;
    rawCipher: ZoneCipher;
  },
): Promise<{ mapping: EventSourceMappingEmulator; stop(): Promise<void> }> {
  const { config, status } = context;
  const lakeDir = path.join(config.dataDir, "lake");
  const store = new LocalLakeObjects(
    new LakeWriter(lakeDir, path.join(config.dataDir, "stream-lake", "tmp")),
    options.rawCipher,
  );
  const handler = createLakeWriteHandler(async () => ({ ...options.deps, store }));
  const mapping = new EventSourceMappingEmulator({
    stream: options.stream,
    consumerName: LAKE_CONSUMER,
    // The emulator cuts batches at window boundaries; an hour matches the lake's hourly partitions.
    windowSeconds: 3600,
    handler: async (event, lambdaContext) => {
      const records = (event.Records as unknown[] | undefined) ?? [];
      if (records.length > 0) {
        const before = Date.now();
        // The batch's devices are looked up together first (the handler then finds them cached), issue 13.
        if (options.registry) await warmCaches(event, options.registry);
        const result = await handler(event as never, lambdaContext);
        status.inc("lake.readings", result.readings);
        status.inc("lake.errors", result.rejected);
        status.inc("lake.streamBatches");
        status.inc("lake.streamRecords", records.length);
        status.set("lake.streamLastMs", Date.now() - before);
      }
      // The emulator's tumbling-window contract wants a state; this consumer keeps none.
      return { state: {} };
    },
    createContext: () =>
      createLambdaContext({
        functionName: "driftwatch-local-lake-write",
        timeoutMs: 120_000,
        memoryLimitInMB: 1024,
      }),
    timeoutMs: 120_000,
    stateDir: path.join(config.dataDir, "checkpoints", "esm-lake"),
    dlqDir: path.join(config.dataDir, "dlq"),
    batchSize: 5000,
    batchingWindowMs: 1000,
    retryAttempts: 10_000,
    maxRecordAgeSeconds: 24 * 3600,
    bisectBatchOnError: false,
    log: (message) => context.log("lake", message),
    onInvoke: (info) => {
      if (!info.ok) status.inc("lake.streamFailedInvocations");
    },
  });
  // Temporary files a killed process left are removed before the first write.
  await store.writer.cleanTemporaryFiles();
  mapping.start();
  return {
    mapping,
    // Ctrl-C: everything the stream holds reaches the lake before the process ends (the scorer stops later).
    async stop() {
      await mapping
        .drained(30_000)
        .catch((error: Error) => context.log("lake", `not drained: ${error.message}`));
      await mapping.stop();
    },
  };
}
