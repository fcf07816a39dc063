import { estimateMonthlyCost, type CostEstimate } from "./estimate.ts";
import { managedFlinkFloor, type FlinkFloor } from "./flink-floor.ts";
import { SEED_TOTALS, seedCombinedTotal, type SeedScenario } from "./seed-tables.ts";
import { stageProfiles, type StageProfileInput } from "./stage-profile.ts";
import { scenarios, type ScenarioName, type WorkloadInput } from "./workload.ts";

/** What `driftwatch cost` prints: the estimate, the seed's totals for the same scenario and the Flink floor. */
export interface CostReport {
  scenario: ScenarioName | "custom";
  estimate: CostEstimate;
  seed?: {
    scenario: SeedScenario;
    sensorDataCollection: number;
    streamingItl: number;
    realTimeAnalytics: number;
    allThree: number;
    /** This estimate as a share of the seed's three patterns together, and of real-time analytics alone. */
    shareOfAllThree: number;
    shareOfRealTimeAnalytics: number;
  };
  managedFlinkFloor: FlinkFloor;
}

export interface CostReportOptions {
  scenario?: ScenarioName;
  /** Overrides of the scenario's workload (rate, devices, record size, …). */
  workload?: Partial<WorkloadInput>;
  profile?: keyof typeof stageProfiles | StageProfileInput;
  priceBook?: string;
}

export function costReport(options: CostReportOptions = {}): CostReport {
  const base = options.scenario ? scenarios[options.scenario] : scenarios.medium;
  const overridden = options.workload !== undefined && Object.keys(options.workload).length > 0;
  const profile =
    typeof options.profile === "string" ? stageProfiles[options.profile] : (options.profile ?? {});
  const estimate = estimateMonthlyCost({ ...base, ...options.workload }, profile, options.priceBook);
  const scenario = overridden ? "custom" : (options.scenario ?? "medium");
  const report: CostReport = { scenario, estimate, managedFlinkFloor: managedFlinkFloor(options.priceBook) };
  if (scenario === "small" || scenario === "medium" || scenario === "large") {
    const allThree = seedCombinedTotal(scenario);
    report.seed = {
      scenario,
      sensorDataCollection: SEED_TOTALS.sensorDataCollection[scenario],
      streamingItl: SEED_TOTALS.streamingItl[scenario],
      realTimeAnalytics: SEED_TOTALS.realTimeAnalytics[scenario],
      allThree,
      shareOfAllThree: estimate.total / allThree,
      shareOfRealTimeAnalytics: estimate.total / SEED_TOTALS.realTimeAnalytics[scenario],
    };
  }
  return report;
}

const usd = (x: number) =>
  `$${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
// Two decimals: a share just under a target (9.96 %) must not print as the target (10.0 %).
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

function table(rows: [string, string][]): string {
  const left = Math.max(...rows.map(([a]) => a.length));
  const right = Math.max(...rows.map(([, b]) => b.length));
  return rows.map(([a, b]) => `  ${a.padEnd(left)}  ${b.padStart(right)}`).join("\n");
}

/** The report as the terminal shows it. */
export function formatCostReport(r: CostReport): string {
  const e = r.estimate;
  const w = e.workload;
  const head =
    `Driftwatch, ${e.profile} stage, scenario ${r.scenario}: peak ${w.peakRecordsPerSecond.toLocaleString("en-US")} records/s ` +
    `of ${w.recordBytes} bytes (${w.peakHoursPerDay} h a day, ${pct(w.offPeakFraction)} otherwise), ${w.devices.toLocaleString("en-US")} devices, ` +
    `${(e.recordsPerMonth / 1e6).toLocaleString("en-US", { maximumFractionDigits: 1 })} M records a month, storage after ${w.storageMonths} month(s)\n` +
    `Prices: ${e.priceBook.id} (${e.priceBook.region}, ${e.priceBook.date})\n`;
  const services = table([
    ...e.services.map((s): [string, string] => [s.service, usd(s.cost)]),
    ["Total a month", usd(e.total)],
    ...(e.perMillionRecords !== undefined
      ? [["per million records", usd(e.perMillionRecords)] as [string, string]]
      : []),
  ]);
  const parts = [head, services];
  if (r.seed) {
    parts.push(
      `\nSeed 003 (June 2018 prices) for the same scenario:\n${table([
        ["sensor data collection", usd(r.seed.sensorDataCollection)],
        ["streaming ingest transform load", usd(r.seed.streamingItl)],
        ["real-time analytics (KDA)", usd(r.seed.realTimeAnalytics)],
        ["all three patterns", usd(r.seed.allThree)],
        ["Driftwatch / all three", pct(r.seed.shareOfAllThree)],
        ["Driftwatch / real-time analytics alone", pct(r.seed.shareOfRealTimeAnalytics)],
      ])}`,
    );
  }
  const f = r.managedFlinkFloor;
  parts.push(
    `\nManaged Service for Apache Flink floor (one application, before any work): ${usd(f.total)} a month ` +
      `(${f.kpus} KPU × ${f.kpuHours / f.kpus} h = ${usd(f.compute)}, running storage ${usd(f.runningStorage)})\n`,
  );
  return parts.join("\n");
}
