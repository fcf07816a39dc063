import { Duration, Stack, aws_athena as athena, aws_glue as glue, aws_s3 as s3 } from "aws-cdk-lib";
import { use, type StackContext } from "sst/constructs";
import { READINGS_COLUMNS } from "@driftwatch/core/backtest/lake-query";
import { isProductionStage } from "./constructs/app-defaults.ts";
import { suppress } from "./constructs/nag.ts";
import { Storage } from "./Storage.ts";

/** First arrival date partition projection enumerates (dates before it are never queried). */
export const LAKE_PROJECTION_START = "2024-01-01";

/** Most bytes one Athena query of the workgroup may scan before Athena cancels it. */
export function bytesScannedCutoff(stage: string): number {
  return (isProductionStage(stage) ? 10 : 1) * 1024 ** 3;
}

/** Hive-style projection of the lake's `date=YYYY-MM-DD/hour=HH/` partitions under `prefix`. */
export function partitionProjection(bucketName: string, prefix: string): Record<string, string> {
  return {
    "projection.enabled": "true",
    "projection.date.type": "date",
    "projection.date.format": "yyyy-MM-dd",
    "projection.date.range": `${LAKE_PROJECTION_START},NOW`,
    "projection.date.interval": "1",
    "projection.date.interval.unit": "DAYS",
    "projection.hour.type": "integer",
    "projection.hour.range": "0,23",
    "projection.hour.digits": "2",
    "storage.location.template": `s3://${bucketName}/${prefix}/date=\${date}/hour=\${hour}/`,
  };
}

/** Glue column types of `readings` (core's READINGS_COLUMNS; `metrics`/`tags` stay JSON text, ADR 0901). */
const readingColumns: glue.CfnTable.ColumnProperty[] = READINGS_COLUMNS.map((name) => ({
  name,
  type: "string",
}));

/**
 * Lake: the data lake as tables of the Glue Data Catalog — `readings` over `readings/` and `scores` over `scores/`
 * (gzip NDJSON, OpenX JSON SerDe, case-insensitive keys), partitions by projection (no crawler, no
 * MSCK REPAIR) — and an Athena workgroup that enforces its own KMS-encrypted results bucket and a bytes-scanned
 * cutoff. The backtest function (Api) reads through it.
 */
export function Lake({ app, stack }: StackContext) {
  const storage = use(Storage);
  const account = Stack.of(stack).account;
  const databaseName = app
    .logicalPrefixedName("lake")
    .replace(/[^a-z0-9_]/gi, "_")
    .toLowerCase();

  const database = new glue.CfnDatabase(stack, "Database", {
    catalogId: account,
    databaseInput: {
      name: databaseName,
      description: `driftwatch ${app.stage}: data lake (readings, scores)`,
    },
  });

  const jsonTable = (id: string, name: string, prefix: string, columns: glue.CfnTable.ColumnProperty[]) => {
    const table = new glue.CfnTable(stack, id, {
      catalogId: account,
      databaseName,
      tableInput: {
        name,
        description: `${prefix}/ of the lake (gzip NDJSON), partitioned by arrival date and hour`,
        tableType: "EXTERNAL_TABLE",
        parameters: {
          classification: "json",
          compressionType: "gzip",
          ...partitionProjection(storage.lake.bucketName, prefix),
        },
        partitionKeys: [
          { name: "date", type: "string" },
          { name: "hour", type: "string" },
        ],
        storageDescriptor: {
          columns,
          location: `s3://${storage.lake.bucketName}/${prefix}/`,
          inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
          outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
          serdeInfo: {
            serializationLibrary: "org.openx.data.jsonserde.JsonSerDe",
            parameters: { "case.insensitive": "TRUE", "ignore.malformed.json": "FALSE" },
          },
        },
      },
    });
    table.addDependency(database);
    return table;
  };
  const readingsTable = jsonTable("ReadingsTable", "readings", "readings", readingColumns);
  // Columns of core's scored record (packages/core/src/scoring/scored-record.ts); nested values as JSON text.
  const scoresTable = jsonTable(
    "ScoresTable",
    "scores",
    "scores",
    [
      ["deviceid", "string"],
      ["ts", "string"],
      ["receivedat", "string"],
      ["arrivedat", "string"],
      ["windowstart", "string"],
      ["shardid", "string"],
      ["sequencenumber", "string"],
      ["modelkey", "string"],
      ["detectorkey", "string"],
      ["manufacturer", "string"],
      ["model", "string"],
      ["site", "string"],
      ["metrics", "string"],
      ["tags", "string"],
      ["score", "double"],
      ["grade", "double"],
      ["anomaly", "boolean"],
      ["attribution", "string"],
      ["rules", "string"],
      // The detector's verdict (JSON text; absent on records archived before it existed): ADR 0903.
      ["detection", "string"],
    ].map(([name, type]) => ({ name: name!, type: type! })),
  );

  // Query results hold readings (de-identified, no PHI): the lake key, a short life, nothing public.
  const results = new s3.Bucket(stack, "QueryResults", {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: storage.lakeKey,
    bucketKeyEnabled: true,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    serverAccessLogsBucket: storage.accessLogsBucket,
    serverAccessLogsPrefix: "athena-results/",
    lifecycleRules: [
      {
        id: "expire-query-results",
        expiration: Duration.days(7),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  suppress(results, [
    {
      id: "HIPAA.Security-S3BucketReplicationEnabled",
      reason: "Athena query results are transient (7-day expiry) and re-creatable by re-running the query.",
    },
  ]);

  const cutoff = bytesScannedCutoff(app.stage);
  const workGroupName = app.logicalPrefixedName("lake");
  const workGroup = new athena.CfnWorkGroup(stack, "WorkGroup", {
    name: workGroupName,
    description: `driftwatch ${app.stage}: backtest and replay queries over the lake`,
    state: "ENABLED",
    recursiveDeleteOption: true,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: cutoff,
      engineVersion: { selectedEngineVersion: "Athena engine version 3" },
      resultConfiguration: {
        outputLocation: `s3://${results.bucketName}/results/`,
        encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKey: storage.lakeKey.keyArn },
        expectedBucketOwner: account,
      },
    },
  });

  stack.addOutputs({ LakeDatabase: databaseName, LakeWorkGroup: workGroupName });

  return { database, databaseName, readingsTable, scoresTable, workGroup, workGroupName, results, cutoff };
}
