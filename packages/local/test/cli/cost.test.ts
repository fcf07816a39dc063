import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerCost } from "../../src/cli/commands/cost.ts";

/** `driftwatch cost` as a user runs it: the command parses its options and prints the model's report. */
async function run(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerCost(program);
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program.parseAsync(["node", "driftwatch", "cost", ...args]);
  return out;
}

describe("driftwatch cost", () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints each scenario's breakdown with the seed comparison as JSON", async () => {
    for (const scenario of ["small", "medium", "large"]) {
      const report = JSON.parse(await run("--scenario", scenario, "--json"));
      expect(report.scenario).toBe(scenario);
      expect(report.estimate.priceBook.id).toBe("2026-12-us-east-1");
      expect(report.estimate.services.map((s: { service: string }) => s.service)).toEqual(
        expect.arrayContaining([
          "IoT Core",
          "Firehose",
          "Lambda",
          "DynamoDB (on demand)",
          "S3",
          "KMS",
          "CloudWatch",
        ]),
      );
      const sum = report.estimate.services.reduce((t: number, s: { cost: number }) => t + s.cost, 0);
      expect(report.estimate.total).toBeCloseTo(sum, 6);
      expect(report.seed.allThree).toBeGreaterThan(report.seed.realTimeAnalytics);
      expect(report.managedFlinkFloor.total).toBeCloseTo(165.6, 6);
    }
  });

  it("prints the built profiles: production (stream-fed lake, provisioned Kinesis) and the former Firehose feed", async () => {
    const production = JSON.parse(await run("--scenario", "medium", "--json"));
    const former = JSON.parse(await run("--scenario", "medium", "--profile", "firehose", "--json"));
    const services = (r: { estimate: { services: { service: string }[] } }) =>
      r.estimate.services.map((s) => s.service);
    const items = (
      r: { estimate: { services: { service: string; items: { item: string }[] }[] } },
      name: string,
    ) => r.estimate.services.find((s) => s.service === name)?.items.map((i) => i.item) ?? [];
    expect(items(production, "IoT Core")).not.toContain("messaging (5 KB metering)");
    expect(services(production)).toContain("Kinesis (provisioned, 1 shard)");
    expect(items(production, "Lambda")).toContain("lake writer: requests");
    expect(items(production, "Firehose")).toEqual(["scores archive (billed GB)"]);
    expect(services(former)).toContain("Kinesis (on-demand, 4 shards)");
    expect(items(former, "Firehose")).toContain("ingest (billed GB)");
    expect(production.estimate.total).toBeLessThan(former.estimate.total);
  });

  it("meets the issue's targets for the built production profile: idle ≤ $30, Small ≤ 15 %, Medium and Large ≤ 10 %", async () => {
    const share = async (scenario: string) =>
      JSON.parse(await run("--scenario", scenario, "--json")).seed.shareOfAllThree as number;
    const idle = JSON.parse(await run("--scenario", "idle", "--json"));
    expect(idle.estimate.total).toBeLessThanOrEqual(30);
    expect(await share("small")).toBeLessThanOrEqual(0.15);
    expect(await share("medium")).toBeLessThanOrEqual(0.1);
    expect(await share("large")).toBeLessThanOrEqual(0.1);
  });

  it("takes a custom workload and prints a readable table", async () => {
    const text = await run("--rate", "250", "--devices", "40", "--record-bytes", "512");
    expect(text).toContain("scenario custom: peak 250 records/s of 512 bytes");
    expect(text).toMatch(/Total a month\s+\$[\d,]+\.\d\d/);
    expect(text).not.toContain("Seed 003");
  });

  it("refuses an unknown scenario, profile or negative rate with a readable error", async () => {
    await expect(run("--scenario", "huge")).rejects.toThrow(
      /--scenario must be one of small, medium, large, idle/,
    );
    await expect(run("--profile", "cheap")).rejects.toThrow(/--profile must be one of/);
    await expect(run("--rate", "-5")).rejects.toThrow(/--rate must be a number/);
  });
});
