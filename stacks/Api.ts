import { Stack, aws_iam as iam, aws_logs as logs } from "aws-cdk-lib";
import { Api as SstApi, Function as SstFunction, use, type StackContext } from "sst/constructs";
import { tables } from "@driftwatch/functions/shared/tables";
import { isProductionStage } from "./constructs/app-defaults.ts";
import { escalationStateMachineName } from "./constructs/names.ts";
import { arnRef, functionBaselineSuppressions, suppress } from "./constructs/nag.ts";
import { tableFromDefinition } from "./constructs/table.ts";
import { Auth } from "./Auth.ts";
import { Escalation } from "./Escalation.ts";
import { Lake } from "./Lake.ts";
import { Scoring } from "./Scoring.ts";
import { Storage } from "./Storage.ts";

/** The handler files of the operator API (one per resource, each exporting `handler`). */
export const API_HANDLERS = {
  me: "packages/functions/src/http/me.handler",
  devices: "packages/functions/src/http/devices.handler",
  metrics: "packages/functions/src/http/metrics.handler",
  thresholds: "packages/functions/src/http/thresholds.handler",
  incidents: "packages/functions/src/http/incidents.handler",
  backtest: "packages/functions/src/http/backtest.handler",
} as const;
export type ApiHandlerName = keyof typeof API_HANDLERS;

/** Every route of the operator API (docs/api.md, the route table agreed with the handlers) → its handler. */
export const API_ROUTES: Record<string, ApiHandlerName> = {
  "GET /api/me": "me",
  "GET /api/devices": "devices",
  "POST /api/devices": "devices",
  "GET /api/devices/{deviceId}": "devices",
  "GET /api/devices/{deviceId}/thresholds": "devices",
  "GET /api/devices/{deviceId}/metrics": "metrics",
  "GET /api/thresholds": "thresholds",
  "GET /api/thresholds/history": "thresholds",
  "GET /api/thresholds/{scope+}": "thresholds",
  "PUT /api/thresholds/{scope+}": "thresholds",
  "DELETE /api/thresholds/{scope+}": "thresholds",
  "GET /api/incidents": "incidents",
  "GET /api/incidents/{id}": "incidents",
  "POST /api/incidents/{id}/ack": "incidents",
  "POST /api/incidents/{id}/resolve": "incidents",
  "POST /api/backtest": "backtest",
};

/** Steady-state requests/s and burst of the whole API (per stage); a console and a CLI need far less. */
export function apiThrottle(stage: string): { rate: number; burst: number } {
  return isProductionStage(stage) ? { rate: 50, burst: 100 } : { rate: 10, burst: 20 };
}

/**
 * Api: the operator API as an SST `Api` (API Gateway HTTP API). Every route requires a JWT from the stage's user
 * pool (Cognito authorizer, audience = the console client); the handlers read the verified claims and decide
 * operator vs viewer themselves (one auth module, shared with local mode). Access logs (KMS-encrypted), stage
 * throttling, CORS for the console's origin only. One function per resource, each granted exactly what its
 * handler calls. ADR 0800.
 */
export function Api({ app, stack }: StackContext) {
  const storage = use(Storage);
  const scoring = use(Scoring);
  const escalation = use(Escalation);
  const auth = use(Auth);
  const lake = use(Lake);
  const production = isProductionStage(app.stage);
  const region = Stack.of(stack).region;
  const account = Stack.of(stack).account;
  const partition = Stack.of(stack).partition;

  // Who changed which threshold, when, from what to what (the thresholds handler writes it).
  const historyTable = tableFromDefinition(stack, tables.thresholdHistory, { retain: production });
  suppress(historyTable, [
    {
      id: "HIPAA.Security-DynamoDBInBackupPlan",
      reason:
        "Point-in-time recovery (35 days, continuous) is on; AWS Backup plans are managed at the organization level, not per app.",
    },
  ]);

  const issuer = `https://cognito-idp.${region}.amazonaws.com/${auth.userPool.userPoolId}`;
  const authEnvironment = {
    AUTH_ISSUER: issuer,
    AUTH_AUDIENCE: auth.consoleClient.userPoolClientId,
    AUTH_JWKS_URL: `${issuer}/.well-known/jwks.json`,
  };
  const tableEnvironment = {
    [tables.devices.envVar]: storage.devicesTable.tableName,
    [tables.metrics.envVar]: scoring.metricsTable.tableName,
    [tables.thresholds.envVar]: scoring.thresholdsTable.tableName,
    [tables.thresholdHistory.envVar]: historyTable.tableName,
    [tables.incidents.envVar]: escalation.incidentsTable.tableName,
  };

  const functions = {} as Record<ApiHandlerName, SstFunction>;
  const fn = (name: ApiHandlerName, description: string, environment: Record<string, string> = {}) => {
    const f = new SstFunction(stack, `${name.charAt(0).toUpperCase()}${name.slice(1)}Api`, {
      handler: API_HANDLERS[name],
      description,
      environment: { ...authEnvironment, ...environment },
    });
    suppress(
      f,
      functionBaselineSuppressions({
        dlqReason:
          "Invoked synchronously by API Gateway, which returns the error to the caller; an async DLQ never applies.",
        concurrencyReason:
          "The HTTP API's stage throttling bounds request rates; reserved concurrency would only add a failure mode.",
      }),
    );
    functions[name] = f;
    return f;
  };
  const allow = (f: SstFunction, sid: string, actions: string[], resources: string[]) =>
    f.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources }));
  const index = (tableArn: string) => `${tableArn}/index/*`;

  // Reads only the verified token: no AWS permission beyond logs and tracing.
  fn("me", "Operator API: who am I (user and role)");

  const devices = fn("devices", "Operator API: device registry, effective thresholds", tableEnvironment);
  allow(
    devices,
    "DeviceRegistry",
    ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:BatchWriteItem"],
    [storage.devicesTable.tableArn],
  );
  allow(devices, "LastSeen", ["dynamodb:Query"], [scoring.metricsTable.tableArn]);
  allow(
    devices,
    "OpenIncidents",
    ["dynamodb:Query", "dynamodb:GetItem"],
    [escalation.incidentsTable.tableArn, index(escalation.incidentsTable.tableArn)],
  );
  allow(
    devices,
    "ThresholdScopes",
    ["dynamodb:GetItem", "dynamodb:BatchGetItem"],
    [scoring.thresholdsTable.tableArn],
  );

  const metrics = fn("metrics", "Operator API: window aggregates and scores of a device", {
    [tables.metrics.envVar]: scoring.metricsTable.tableName,
  });
  allow(metrics, "ReadMetrics", ["dynamodb:Query"], [scoring.metricsTable.tableArn]);

  const thresholds = fn("thresholds", "Operator API: threshold rules per scope and their history", {
    [tables.thresholds.envVar]: scoring.thresholdsTable.tableName,
    [tables.thresholdHistory.envVar]: historyTable.tableName,
  });
  allow(
    thresholds,
    "ThresholdsReadWrite",
    ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem"],
    [scoring.thresholdsTable.tableArn],
  );
  allow(
    thresholds,
    "ThresholdHistory",
    ["dynamodb:PutItem", "dynamodb:Query"],
    [historyTable.tableArn, index(historyTable.tableArn)],
  );

  const incidents = fn("incidents", "Operator API: incidents, acknowledge and resolve", {
    [tables.incidents.envVar]: escalation.incidentsTable.tableName,
  });
  allow(
    incidents,
    "IncidentsReadUpdate",
    ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [escalation.incidentsTable.tableArn, index(escalation.incidentsTable.tableArn)],
  );
  allow(
    incidents,
    "ReleaseEscalationWait",
    ["states:SendTaskSuccess"],
    [`arn:${partition}:states:${region}:${account}:stateMachine:${escalationStateMachineName(app)}`],
  );

  const backtest = fn("backtest", "Operator API: backtest a candidate rule over the lake (Athena)", {
    [tables.devices.envVar]: storage.devicesTable.tableName,
    [tables.thresholds.envVar]: scoring.thresholdsTable.tableName,
    LAKE_DATABASE: lake.databaseName,
    LAKE_WORKGROUP: lake.workGroupName,
    BACKTEST_MAX_BYTES_SCANNED: String(lake.cutoff),
    // Inside API Gateway's 30 s integration timeout: a slow query is stopped and reported, never cut off.
    BACKTEST_MAX_WAIT_SECONDS: "20",
  });
  allow(backtest, "Registry", ["dynamodb:GetItem", "dynamodb:BatchGetItem"], [storage.devicesTable.tableArn]);
  allow(
    backtest,
    "Thresholds",
    ["dynamodb:GetItem", "dynamodb:BatchGetItem"],
    [scoring.thresholdsTable.tableArn],
  );
  const workGroupArn = `arn:${partition}:athena:${region}:${account}:workgroup/${lake.workGroupName}`;
  allow(
    backtest,
    "AthenaQueries",
    [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:StopQueryExecution",
      "athena:GetWorkGroup",
    ],
    [workGroupArn],
  );
  allow(
    backtest,
    "GlueCatalogRead",
    ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
    [
      `arn:${partition}:glue:${region}:${account}:catalog`,
      `arn:${partition}:glue:${region}:${account}:database/${lake.databaseName}`,
      `arn:${partition}:glue:${region}:${account}:table/${lake.databaseName}/*`,
    ],
  );
  // Athena reads the lake and writes results with the caller's credentials.
  allow(
    backtest,
    "LakeReadings",
    ["s3:GetObject"],
    [storage.lake.arnForObjects("readings/*"), storage.lake.arnForObjects("scores/*")],
  );
  allow(backtest, "LakeList", ["s3:ListBucket", "s3:GetBucketLocation"], [storage.lake.bucketArn]);
  allow(
    backtest,
    "QueryResults",
    [
      "s3:GetObject",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:ListMultipartUploadParts",
    ],
    [lake.results.bucketArn, lake.results.arnForObjects("results/*")],
  );
  allow(backtest, "LakeKey", ["kms:Decrypt", "kms:GenerateDataKey"], [storage.lakeKey.keyArn]);

  // The wildcards left are each one resource's own children: a table's indexes, a table set of one Glue database,
  // the objects of one lake prefix or of the query-results prefix.
  const indexReason = (table: string) =>
    `Query of the ${table} table's global secondary indexes (ARN/index/*); no other table is reachable.`;
  suppress(devices, [
    {
      id: "AwsSolutions-IAM5",
      reason: indexReason("incidents"),
      appliesTo: [arnRef(escalation.incidentsTable, "/index/*")],
    },
  ]);
  suppress(incidents, [
    {
      id: "AwsSolutions-IAM5",
      reason: indexReason("incidents"),
      appliesTo: [arnRef(escalation.incidentsTable, "/index/*")],
    },
  ]);
  suppress(thresholds, [
    {
      id: "AwsSolutions-IAM5",
      reason: indexReason("threshold history"),
      appliesTo: [arnRef(historyTable, "/index/*")],
    },
  ]);
  suppress(backtest, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "Athena reads the lake with the caller's credentials: GetObject on the readings/ and scores/ prefixes only (never raw/ or errors/), the tables of the stage's own lake database, and the workgroup's results/ prefix.",
      appliesTo: [
        `Resource::arn:<AWS::Partition>:glue:${region}:${account}:table/${lake.databaseName}/*`,
        arnRef(storage.lake, "/readings/*"),
        arnRef(storage.lake, "/scores/*"),
        arnRef(lake.results, "/results/*"),
      ],
    },
  ]);

  // ── The HTTP API ──────────────────────────────────────────────────────────────────────────────────────────
  const accessLogs = new logs.LogGroup(stack, "ApiAccessLogs", {
    encryptionKey: storage.logsKey,
    retention: production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
  });
  const throttle = apiThrottle(app.stage);
  const api = new SstApi(stack, "Api", {
    authorizers: {
      cognito: {
        type: "user_pool",
        userPool: { id: auth.userPool.userPoolId, clientIds: [auth.consoleClient.userPoolClientId], region },
      },
    },
    defaults: { authorizer: "cognito", throttle },
    accessLog: { destinationArn: accessLogs.logGroupArn },
    cors: {
      allowOrigins: auth.console.origins,
      allowMethods: ["GET", "POST", "PUT", "DELETE"],
      allowHeaders: ["authorization", "content-type"],
      allowCredentials: false,
      maxAge: "1 hour",
    },
    routes: Object.fromEntries(
      Object.entries(API_ROUTES).map(([route, name]) => [route, { function: functions[name] }]),
    ),
  });
  suppress(api, [
    {
      id: "AwsSolutions-APIG1",
      reason:
        "Access logging is on: every request goes to the KMS-encrypted ApiAccessLogs group (SST sets it per stage).",
    },
  ]);

  stack.addOutputs({ ApiUrl: api.url, ThresholdHistoryTable: historyTable.tableName });

  return { api, functions, historyTable, accessLogs };
}
