import { z } from "zod";
import { DriftwatchError } from "../shared/errors.ts";
import books from "./prices.json" with { type: "json" };

const usd = z.number().nonnegative();
const sourced = <T extends z.ZodRawShape>(shape: T) =>
  z.object({ source: z.string().min(1), ...shape }).strict();

/** One region's unit prices on one date (`prices.json`). Every estimate names the book it used. */
export const priceBookSchema = z
  .object({
    id: z.string().min(1),
    region: z.string().min(1),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    source: z.string().min(1),
    /** Hours billed per month for hourly resources (AWS's calculator uses 730; the seed used 720). */
    hoursPerMonth: z.number().positive(),
    iot: sourced({
      connectivityPerMillionMinutes: usd,
      messagingTiers: z
        .array(z.object({ upToMillions: z.number().positive().nullable(), perMillion: usd }).strict())
        .min(1),
      messageMeteringKb: z.number().positive(),
      rulesTriggeredPerMillion: usd,
      actionsExecutedPerMillion: usd,
    }),
    firehose: sourced({
      ingestPerGb: usd,
      recordRoundingKb: z.number().positive(),
      dynamicPartitioningPerGb: usd,
      dynamicPartitioningPerThousandObjects: usd,
      formatConversionPerGb: usd,
    }),
    kinesis: sourced({
      shardHour: usd,
      putPayloadUnitsPerMillion: usd,
      extendedRetentionShardHour: usd,
      onDemandStreamHour: usd,
      onDemandIngestPerGb: usd,
      onDemandRetrievalPerGb: usd,
    }),
    lambda: sourced({ requestsPerMillion: usd, gbSecondX86: usd, gbSecondArm64: usd }),
    dynamodb: sourced({
      onDemandWritesPerMillion: usd,
      onDemandReadsPerMillion: usd,
      storagePerGbMonth: usd,
      provisionedWcuHour: usd,
      provisionedRcuHour: usd,
    }),
    s3: sourced({
      standardPerGbMonth: usd,
      infrequentAccessPerGbMonth: usd,
      putPerThousand: usd,
      getPerThousand: usd,
    }),
    kms: sourced({
      keyMonth: usd,
      requestsPerTenThousand: usd,
      freeRequests: z.number().int().nonnegative(),
    }),
    stepFunctions: sourced({ standardTransitionsPerThousand: usd }),
    sns: sourced({ publishesPerMillion: usd, emailPerHundredThousand: usd }),
    cloudwatch: sourced({
      logsIngestPerGb: usd,
      logsStoragePerGbMonth: usd,
      customMetricMonth: usd,
      alarmMonth: usd,
      dashboardMonth: usd,
    }),
    athena: sourced({ perTbScanned: usd, minimumMbPerQuery: z.number().nonnegative() }),
    apiGateway: sourced({ httpApiRequestsPerMillion: usd }),
    secretsManager: sourced({ secretMonth: usd }),
    kinesisAnalytics: sourced({
      kpuHour: usd,
      orchestrationKpusPerApplication: z.number().nonnegative(),
      runningStorageGbPerKpu: z.number().nonnegative(),
      runningStoragePerGbMonth: usd,
    }),
  })
  .strict();
export type PriceBook = z.infer<typeof priceBookSchema>;

export class UnknownPriceBookError extends DriftwatchError {}

const priceBooksSchema = z.object({ $comment: z.string(), books: z.array(priceBookSchema).min(1) }).strict();
const all: readonly PriceBook[] = priceBooksSchema.parse(books).books;

/** Today's prices: the book the CLI and docs use unless told otherwise. */
export const CURRENT_PRICE_BOOK = "2026-12-us-east-1";
/** The prices seed 003 (June 2018) used; only for reproducing its tables. */
export const SEED_PRICE_BOOK = "2018-06-seed";

export function priceBookIds(): string[] {
  return all.map((b) => b.id);
}

export function priceBook(id: string = CURRENT_PRICE_BOOK): PriceBook {
  const book = all.find((b) => b.id === id);
  if (book === undefined) {
    throw new UnknownPriceBookError(`unknown price book "${id}"; known: ${priceBookIds().join(", ")}`);
  }
  return book;
}

/** Price of `millions` units on a tiered schedule (tiers in ascending order, the last one open-ended). */
export function tieredCost(
  millions: number,
  tiers: readonly { upToMillions: number | null; perMillion: number }[],
): number {
  let cost = 0;
  let floor = 0;
  for (const tier of tiers) {
    const ceiling = tier.upToMillions ?? Number.POSITIVE_INFINITY;
    const inTier = Math.max(0, Math.min(millions, ceiling) - floor);
    cost += inTier * tier.perMillion;
    floor = ceiling;
    if (millions <= ceiling) break;
  }
  return cost;
}
