import type { Command } from "commander";

interface CostOptions {
  scenario: string;
  profile: string;
  rate?: string;
  devices?: string;
  recordBytes?: string;
  storageMonths?: string;
  prices?: string;
  json?: boolean;
}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, got "${value}"`);
  return n;
}

/**
 * `driftwatch cost [--scenario small|medium|large|idle] [--profile production|dev|firehose] [--rate …] [--devices …]
 * [--record-bytes …] [--json]`: the monthly cost model (packages/core/src/cost, docs/cost.md). Pure arithmetic: no
 * running instance, no AWS account.
 */
export function registerCost(program: Command): void {
  program
    .command("cost")
    .description(
      "Estimate this deployment's monthly AWS cost per service and compare it with the seed's patterns",
    )
    .option(
      "--scenario <name>",
      "small | medium | large (the seed's 100 / 1,000 / 5,000 records/s) | idle",
      "medium",
    )
    .option(
      "--profile <name>",
      "production (as deployed) | dev (a personal stage) | firehose (the former production: Firehose lake feed, on-demand Kinesis, 7 days)",
      "production",
    )
    .option("--rate <records/s>", "peak records per second (overrides the scenario's)")
    .option("--devices <n>", "reporting devices (overrides the scenario's)")
    .option("--record-bytes <n>", "bytes per record (default 1024)")
    .option(
      "--storage-months <n>",
      "price the lake as it stands after this many months (default 1, as the seed)",
    )
    .option("--prices <book>", "price book id (packages/core/src/cost/prices.json)")
    .option("--json", "print the whole report as JSON")
    .action(async (options: CostOptions) => {
      const { costReport, formatCostReport } = await import("@driftwatch/core/cost/report");
      const { scenarios } = await import("@driftwatch/core/cost/workload");
      const { stageProfiles } = await import("@driftwatch/core/cost/stage-profile");
      if (!(options.scenario in scenarios)) {
        throw new Error(
          `--scenario must be one of ${Object.keys(scenarios).join(", ")}, got "${options.scenario}"`,
        );
      }
      if (!(options.profile in stageProfiles)) {
        throw new Error(
          `--profile must be one of ${Object.keys(stageProfiles).join(", ")}, got "${options.profile}"`,
        );
      }
      const overrides = Object.fromEntries(
        Object.entries({
          peakRecordsPerSecond: positiveNumber("--rate", options.rate),
          devices: positiveNumber("--devices", options.devices),
          recordBytes: positiveNumber("--record-bytes", options.recordBytes),
          storageMonths: positiveNumber("--storage-months", options.storageMonths),
        }).filter(([, v]) => v !== undefined),
      );
      const report = costReport({
        scenario: options.scenario as keyof typeof scenarios,
        workload: overrides,
        profile: options.profile as keyof typeof stageProfiles,
        ...(options.prices ? { priceBook: options.prices } : {}),
      });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatCostReport(report));
    });
}
