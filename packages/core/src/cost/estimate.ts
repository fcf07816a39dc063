import { priceBook, tieredCost, type PriceBook } from "./price-book.ts";
import { stageProfile, type StageProfile, type StageProfileInput } from "./stage-profile.ts";
import { usage, type LambdaUsage, type Usage } from "./usage.ts";
import { workload as parseWorkload, type Workload, type WorkloadInput } from "./workload.ts";

export interface CostItem {
  item: string;
  quantity: number;
  unit: string;
  cost: number;
}

export interface ServiceCost {
  service: string;
  cost: number;
  items: CostItem[];
}

/** A month of one stage under one workload, priced from one price book. */
export interface CostEstimate {
  priceBook: { id: string; region: string; date: string };
  profile: string;
  workload: Workload;
  recordsPerMonth: number;
  services: ServiceCost[];
  total: number;
  /** Cost per million records (undefined without traffic). */
  perMillionRecords?: number;
}

const M = 1e6;

function service(name: string, items: CostItem[]): ServiceCost {
  const kept = items.filter((i) => i.quantity > 0 || i.cost > 0);
  return { service: name, cost: kept.reduce((s, i) => s + i.cost, 0), items: kept };
}

function lambdaItems(name: string, l: LambdaUsage, p: PriceBook): CostItem[] {
  const gbSecond = l.architecture === "arm64" ? p.lambda.gbSecondArm64 : p.lambda.gbSecondX86;
  return [
    {
      item: `${name}: requests`,
      quantity: l.invocations,
      unit: "requests",
      cost: (l.invocations / M) * p.lambda.requestsPerMillion,
    },
    {
      item: `${name}: compute (${l.architecture})`,
      quantity: l.gbSeconds,
      unit: "GB-s",
      cost: l.gbSeconds * gbSecond,
    },
  ];
}

/** Prices a month of usage, service by service. */
export function priceUsage(u: Usage, p: PriceBook): ServiceCost[] {
  const { iot, firehose, kinesis, dynamodb, s3, cloudwatch } = u;
  return [
    service("IoT Core", [
      {
        item: "connectivity",
        quantity: iot.connectionMinutes,
        unit: "minutes",
        cost: (iot.connectionMinutes / M) * p.iot.connectivityPerMillionMinutes,
      },
      {
        item: "messaging (5 KB metering)",
        quantity: iot.meteredMessages,
        unit: "messages",
        cost: tieredCost(iot.meteredMessages / M, p.iot.messagingTiers),
      },
      {
        item: "rules triggered",
        quantity: iot.rulesTriggered,
        unit: "rules",
        cost: (iot.rulesTriggered / M) * p.iot.rulesTriggeredPerMillion,
      },
      {
        item: "actions executed",
        quantity: iot.actionsExecuted,
        unit: "actions",
        cost: (iot.actionsExecuted / M) * p.iot.actionsExecutedPerMillion,
      },
    ]),
    service("Firehose", [
      {
        item: "ingest (billed GB)",
        quantity: firehose.ingestGb,
        unit: "GB",
        cost: firehose.ingestGb * p.firehose.ingestPerGb,
      },
      {
        item: "dynamic partitioning (GB)",
        quantity: firehose.partitionedGb,
        unit: "GB",
        cost: firehose.partitionedGb * p.firehose.dynamicPartitioningPerGb,
      },
      {
        item: "dynamic partitioning (objects)",
        quantity: firehose.partitionedObjects,
        unit: "objects",
        cost: (firehose.partitionedObjects / 1000) * p.firehose.dynamicPartitioningPerThousandObjects,
      },
      {
        item: "scores archive (billed GB)",
        quantity: firehose.scoresGb,
        unit: "GB",
        cost: firehose.scoresGb * p.firehose.ingestPerGb,
      },
    ]),
    service(`Kinesis (${kinesis.mode}, ${kinesis.shards} shard${kinesis.shards === 1 ? "" : "s"})`, [
      {
        item: "shard hours",
        quantity: kinesis.shardHours,
        unit: "shard-hours",
        cost: kinesis.shardHours * p.kinesis.shardHour,
      },
      {
        item: "extended retention",
        quantity: kinesis.extendedRetentionShardHours,
        unit: "shard-hours",
        cost: kinesis.extendedRetentionShardHours * p.kinesis.extendedRetentionShardHour,
      },
      {
        item: "PUT payload units",
        quantity: kinesis.putPayloadUnits,
        unit: "units",
        cost: (kinesis.putPayloadUnits / M) * p.kinesis.putPayloadUnitsPerMillion,
      },
      {
        item: "on-demand stream hours",
        quantity: kinesis.streamHours,
        unit: "hours",
        cost: kinesis.streamHours * p.kinesis.onDemandStreamHour,
      },
      {
        item: "on-demand data in",
        quantity: kinesis.ingestGb,
        unit: "GB",
        cost: kinesis.ingestGb * p.kinesis.onDemandIngestPerGb,
      },
      {
        item: "on-demand data out",
        quantity: kinesis.retrievalGb,
        unit: "GB",
        cost: kinesis.retrievalGb * p.kinesis.onDemandRetrievalPerGb,
      },
    ]),
    service("Lambda", [
      ...lambdaItems("transform", u.lambda.transform, p),
      ...lambdaItems("scoring", u.lambda.scoring, p),
      ...lambdaItems("lake writer", u.lambda.lakeWriter, p),
      ...lambdaItems("api", u.lambda.api, p),
      ...lambdaItems("escalation tasks", u.lambda.escalation, p),
      ...lambdaItems("backtest", u.lambda.backtest, p),
    ]),
    service("DynamoDB (on demand)", [
      {
        item: "write request units",
        quantity: dynamodb.writeUnits,
        unit: "WRU",
        cost: (dynamodb.writeUnits / M) * p.dynamodb.onDemandWritesPerMillion,
      },
      {
        item: "read request units",
        quantity: dynamodb.readUnits,
        unit: "RRU",
        cost: (dynamodb.readUnits / M) * p.dynamodb.onDemandReadsPerMillion,
      },
      {
        item: "storage",
        quantity: dynamodb.storageGb,
        unit: "GB-month",
        cost: dynamodb.storageGb * p.dynamodb.storagePerGbMonth,
      },
    ]),
    service("S3", [
      {
        item: "Standard storage",
        quantity: s3.standardGb,
        unit: "GB-month",
        cost: s3.standardGb * p.s3.standardPerGbMonth,
      },
      {
        item: "Infrequent Access storage",
        quantity: s3.infrequentAccessGb,
        unit: "GB-month",
        cost: s3.infrequentAccessGb * p.s3.infrequentAccessPerGbMonth,
      },
      {
        item: "PUT requests",
        quantity: s3.puts,
        unit: "requests",
        cost: (s3.puts / 1000) * p.s3.putPerThousand,
      },
      {
        item: "GET requests",
        quantity: s3.gets,
        unit: "requests",
        cost: (s3.gets / 1000) * p.s3.getPerThousand,
      },
    ]),
    service("KMS", [
      {
        item: "customer managed keys",
        quantity: u.kms.keys,
        unit: "keys",
        cost: u.kms.keys * p.kms.keyMonth,
      },
      {
        item: "requests (after free tier)",
        quantity: u.kms.requests,
        unit: "requests",
        cost: (Math.max(0, u.kms.requests - p.kms.freeRequests) / 10_000) * p.kms.requestsPerTenThousand,
      },
    ]),
    service("Step Functions", [
      {
        item: "state transitions",
        quantity: u.stepFunctions.transitions,
        unit: "transitions",
        cost: (u.stepFunctions.transitions / 1000) * p.stepFunctions.standardTransitionsPerThousand,
      },
    ]),
    service("SNS", [
      {
        item: "publishes",
        quantity: u.sns.publishes,
        unit: "publishes",
        cost: (u.sns.publishes / M) * p.sns.publishesPerMillion,
      },
    ]),
    service("CloudWatch", [
      {
        item: "log ingestion",
        quantity: cloudwatch.logIngestGb,
        unit: "GB",
        cost: cloudwatch.logIngestGb * p.cloudwatch.logsIngestPerGb,
      },
      {
        item: "log storage",
        quantity: cloudwatch.logStoredGb,
        unit: "GB-month",
        cost: cloudwatch.logStoredGb * p.cloudwatch.logsStoragePerGbMonth,
      },
      {
        item: "custom metrics",
        quantity: cloudwatch.customMetrics,
        unit: "metrics",
        cost: cloudwatch.customMetrics * p.cloudwatch.customMetricMonth,
      },
      {
        item: "alarms",
        quantity: cloudwatch.alarms,
        unit: "alarms",
        cost: cloudwatch.alarms * p.cloudwatch.alarmMonth,
      },
      {
        item: "dashboards",
        quantity: cloudwatch.dashboards,
        unit: "dashboards",
        cost: cloudwatch.dashboards * p.cloudwatch.dashboardMonth,
      },
    ]),
    service("Athena (backtests)", [
      {
        item: "data scanned",
        quantity: u.athena.scannedTb,
        unit: "TB",
        cost: u.athena.scannedTb * p.athena.perTbScanned,
      },
    ]),
    service("API Gateway (HTTP API)", [
      {
        item: "requests",
        quantity: u.api.requests,
        unit: "requests",
        cost: (u.api.requests / M) * p.apiGateway.httpApiRequestsPerMillion,
      },
    ]),
    service("Secrets Manager", [
      {
        item: "secrets",
        quantity: u.secrets,
        unit: "secrets",
        cost: u.secrets * p.secretsManager.secretMonth,
      },
    ]),
  ];
}

/** The monthly cost of a stage (`profile`) carrying `workload`, at the prices of `priceBookId`. */
export function estimateMonthlyCost(
  workloadInput: WorkloadInput,
  profileInput: StageProfileInput | StageProfile = {},
  priceBookId?: string,
): CostEstimate {
  const prices = priceBook(priceBookId);
  const w = parseWorkload(workloadInput);
  const profile = stageProfile(profileInput);
  const u = usage(w, profile, prices.hoursPerMonth);
  const services = priceUsage(u, prices);
  const total = services.reduce((s, x) => s + x.cost, 0);
  return {
    priceBook: { id: prices.id, region: prices.region, date: prices.date },
    profile: profile.name,
    workload: w,
    recordsPerMonth: u.records,
    services,
    total,
    ...(u.records > 0 ? { perMillionRecords: (total / u.records) * M } : {}),
  };
}
