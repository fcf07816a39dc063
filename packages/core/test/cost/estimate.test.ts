import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { estimateMonthlyCost, type CostEstimate } from "../../src/cost/estimate.ts";
import { managedFlinkFloor } from "../../src/cost/flink-floor.ts";
import {
  CURRENT_PRICE_BOOK,
  priceBook,
  tieredCost,
  UnknownPriceBookError,
} from "../../src/cost/price-book.ts";
import { costReport, formatCostReport } from "../../src/cost/report.ts";
import { stageProfile, stageProfiles } from "../../src/cost/stage-profile.ts";
import { recordsPerMonth, scenarios, workload } from "../../src/cost/workload.ts";

const item = (e: CostEstimate, service: string, name: string) =>
  e.services.find((s) => s.service.startsWith(service))?.items.find((i) => i.item.startsWith(name));

describe("cost model", () => {
  it("counts records as the seed does: 4 peak hours, 20 % of peak otherwise, 30-day months", () => {
    expect(recordsPerMonth(workload(scenarios.small))).toBe(86_400_000);
    expect(recordsPerMonth(workload(scenarios.medium))).toBe(864_000_000);
    expect(recordsPerMonth(workload(scenarios.large))).toBe(4_320_000_000);
  });

  it("bills each 1 KB record as 5 KB on Firehose unless records are packed (lake feed `firehose`)", () => {
    const perMessage = estimateMonthlyCost(scenarios.medium, {
      ingest: { lakeFeed: "firehose" },
      firehose: { route: "record-per-message" },
    });
    const packed = estimateMonthlyCost(scenarios.medium, {
      ingest: { lakeFeed: "firehose" },
      firehose: { route: "packed" },
    });
    const gb = (e: CostEstimate) => item(e, "Firehose", "ingest")!.quantity;
    expect(gb(perMessage)).toBeCloseTo((864e6 * 5 * 1024) / 1024 ** 3, 6);
    expect(gb(packed) / gb(perMessage)).toBeLessThan(0.21);
    expect(gb(packed)).toBeGreaterThanOrEqual((864e6 * 1024) / 1024 ** 3);
  });

  it("drops IoT messaging with Basic Ingest and keeps rule and action charges", () => {
    const broker = estimateMonthlyCost(scenarios.small, { ingest: { basicIngest: false } });
    const basic = estimateMonthlyCost(scenarios.small, { ingest: { basicIngest: true } });
    expect(item(broker, "IoT", "messaging")!.cost).toBeCloseTo(86.4, 6);
    expect(item(basic, "IoT", "messaging")).toBeUndefined();
    expect(item(basic, "IoT", "rules")!.cost).toBeCloseTo(86.4 * 0.15, 6);
    expect(item(basic, "IoT", "actions")!.cost).toBeCloseTo(86.4 * 0.15, 6);
    const firehoseFed = estimateMonthlyCost(scenarios.small, { ingest: { lakeFeed: "firehose" } });
    expect(item(firehoseFed, "IoT", "actions")!.cost).toBeCloseTo(86.4 * 2 * 0.15, 6);
  });

  it("feeds the lake from the stream: no Firehose ingest or partitioning, one lake-writer object per zone and batch", () => {
    const stream = estimateMonthlyCost(scenarios.large);
    const firehose = estimateMonthlyCost(scenarios.large, stageProfiles.firehose);
    expect(item(stream, "Firehose", "ingest")).toBeUndefined();
    expect(item(stream, "Firehose", "dynamic partitioning")).toBeUndefined();
    expect(item(firehose, "Firehose", "ingest")!.quantity).toBeCloseTo((4320e6 * 5 * 1024) / 1024 ** 3, 3);
    // 1 KB records: Lambda's 6 MB payload holds 3,582 of them (1,368 base64 bytes + 350 of event fields each).
    const perBatch = Math.floor((6 * 1024 * 1024) / (1368 + 350));
    expect(item(stream, "Lambda", "lake writer: requests")!.quantity).toBeCloseTo(4320e6 / perBatch, 0);
    expect(item(stream, "Lambda", "transform")).toBeUndefined();
    expect(item(firehose, "Lambda", "lake writer")).toBeUndefined();
    expect(stream.total).toBeLessThan(firehose.total * 0.6);
  });

  it("prices IoT messaging on AWS's tiers", () => {
    const tiers = priceBook(CURRENT_PRICE_BOOK).iot.messagingTiers;
    expect(tieredCost(4320, tiers)).toBeCloseTo(1000 + 3320 * 0.8, 6);
    expect(tieredCost(6000, tiers)).toBeCloseTo(1000 + 4000 * 0.8 + 1000 * 0.7, 6);
  });

  it("grows with the rate, and writes aggregates once per device and window with per-device items", () => {
    const totals = (["small", "medium", "large"] as const).map(
      (s) => estimateMonthlyCost(scenarios[s]).total,
    );
    expect(totals[0]).toBeLessThan(totals[1]);
    expect(totals[1]).toBeLessThan(totals[2]);
    const perMetric = item(
      estimateMonthlyCost(scenarios.medium, { scoring: { aggregateItems: "per-metric" } }),
      "DynamoDB",
      "write",
    )!.quantity;
    const perDevice = item(estimateMonthlyCost(scenarios.medium), "DynamoDB", "write")!.quantity;
    const windows = (30 * 86_400) / 60;
    expect(perDevice).toBeGreaterThanOrEqual(1000 * windows);
    expect(perMetric - perDevice).toBeCloseTo(1000 * windows * 4, 0);
  });

  it("says what an idle stage costs, and keeps it under $30 a month with one provisioned shard", () => {
    const production = estimateMonthlyCost(scenarios.idle, stageProfiles.production);
    const onDemand = estimateMonthlyCost(scenarios.idle, stageProfiles.firehose);
    expect(production.services.filter((s) => s.cost > 0).map((s) => s.service.split(" ")[0])).toEqual([
      "Kinesis",
      "KMS",
      "CloudWatch",
      "Secrets",
    ]);
    expect(production.total).toBeLessThanOrEqual(30);
    expect(production.total).toBeLessThan(managedFlinkFloor().total / 5);
    expect(item(production, "Kinesis", "shard hours")!.quantity).toBe(730);
    expect(item(production, "Kinesis", "extended retention")).toBeUndefined();
    // On-demand's stream hours alone ($29.20) were most of the former production's idle month.
    expect(item(onDemand, "Kinesis", "on-demand stream hours")!.cost).toBeCloseTo(29.2, 6);
    expect(onDemand.total).toBeGreaterThan(30);
    expect(production.perMillionRecords).toBeUndefined();
  });

  it("describes built configurations only: production as stacks/ configure it, the former one as an option", () => {
    const production = stageProfile(stageProfiles.production);
    // Built: Basic Ingest (on in production), the stream-fed lake writer, provisioned Kinesis for the peak with 24 h,
    // packed scores, one aggregate item per device.
    expect(production.ingest).toMatchObject({ basicIngest: true, lakeFeed: "stream" });
    expect(production.scoresArchive.packing).toBe("packed");
    expect(production.scoring.aggregateItems).toBe("per-device");
    expect(production.kinesis).toMatchObject({ mode: "provisioned", shardCount: 0, retentionHours: 24 });
    expect(stageProfile(stageProfiles.dev).ingest.basicIngest).toBe(false);
    // Not built: packing readings into Firehose records.
    for (const name of ["production", "dev", "firehose"] as const) {
      expect(stageProfile(stageProfiles[name]).firehose.route, name).toBe("record-per-message");
    }
    const former = stageProfile(stageProfiles.firehose);
    expect(former.ingest.lakeFeed).toBe("firehose");
    expect(former.kinesis).toMatchObject({ mode: "on-demand", retentionHours: 168 });
    expect(former.monitoring.alarms).toBe(production.monitoring.alarms - 1);
    expect({
      ...former,
      name: "production",
      ingest: production.ingest,
      kinesis: production.kinesis,
      monitoring: production.monitoring,
    }).toEqual(production);
  });

  it("prices a packed scores archive at its bytes and per-device aggregates at one write per device and window", () => {
    const packed = estimateMonthlyCost(scenarios.medium);
    const perScore = estimateMonthlyCost(scenarios.medium, {
      scoresArchive: { packing: "record-per-score" },
    });
    const gb = (e: CostEstimate) => item(e, "Firehose", "scores")!.quantity;
    expect(gb(perScore)).toBeCloseTo((864e6 * 5 * 1024) / 1024 ** 3, 6);
    expect(gb(packed)).toBeCloseTo((864e6 * 874) / 1024 ** 3, 6);
    // Five metrics make a 725-byte item: still one write unit; twelve make 1,334 bytes: two.
    const writes = (metricsPerRecord: number) =>
      item(estimateMonthlyCost({ ...scenarios.small, metricsPerRecord }), "DynamoDB", "write")!.quantity;
    const windows = (30 * 86_400) / 60;
    expect(writes(12) - writes(5)).toBeCloseTo(100 * windows, 0);
  });

  it("knows the Managed Flink floor: 1 KPU plus 1 orchestration KPU every hour, and running storage", () => {
    const floor = managedFlinkFloor();
    expect(floor.compute).toBeCloseTo(2 * 730 * 0.11, 6);
    expect(floor.total).toBeCloseTo(165.6, 6);
  });

  it("uses the per-record times the committed benchmarks measured", () => {
    const transform = JSON.parse(
      readFileSync(new URL("../../../../bench/results/transform.json", import.meta.url), "utf8"),
    );
    const scoring = JSON.parse(
      readFileSync(new URL("../../../../bench/results/scoring.json", import.meta.url), "utf8"),
    );
    const p = stageProfile();
    expect(p.transform.microsPerRecord).toBeCloseTo(transform.medianMicrosecondsPerRecord, 1);
    expect(p.scoring.microsPerRecord).toBeCloseTo(1e6 / scoring.manyModels[0].handlerPerCpuSecond, 0);
    const writer = JSON.parse(
      readFileSync(new URL("../../../../bench/results/lake-writer.json", import.meta.url), "utf8"),
    );
    expect(p.lakeWriter.microsPerRecord).toBeCloseTo(
      transform.medianMicrosecondsPerRecord * writer.cpuRatioWriterOverTransform,
      1,
    );
  });

  it("refuses unknown workload fields and price books by name", () => {
    expect(() => workload({ peakRecordsPerSecond: 1, devices: 1, peakRate: 3 } as never)).toThrow(/peakRate/);
    expect(() => estimateMonthlyCost(scenarios.small, {}, "1999-01-nowhere")).toThrow(UnknownPriceBookError);
  });

  it("prints the breakdown, the seed's totals and the Flink floor, and names its price date", () => {
    const report = costReport({ scenario: "large", profile: "production" });
    expect(report.seed?.allThree).toBeCloseTo(20_519.43, 2);
    expect(report.seed?.shareOfAllThree).toBeCloseTo(report.estimate.total / 20_519.43, 10);
    const text = formatCostReport(report);
    expect(text).toContain("2026-12-us-east-1");
    expect(text).toContain("all three patterns");
    expect(text).toContain("Apache Flink floor");
    expect(costReport({ scenario: "small", workload: { devices: 7 } }).scenario).toBe("custom");
  });
});
