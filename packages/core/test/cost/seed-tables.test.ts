import { describe, expect, it } from "vitest";
import { priceBook, SEED_PRICE_BOOK } from "../../src/cost/price-book.ts";
import { seedCombinedTotal, seedLines, SEED_TOTALS } from "../../src/cost/seed-tables.ts";

/**
 * Seed 003's Appendix A recomputed from its own inputs at its era's prices (June 2018). Every line that follows from
 * its inputs must be reproduced at the precision the seed prints it; the lines that do not are named here, so a
 * change in the model that "fixes" or breaks one shows up.
 */
const INCONSISTENT = [
  "A.1 medium Lambda Duration (ms)",
  "A.2 small S3 Storage per zone (GB)",
  "A.2 medium S3 Storage per zone (GB)",
  "A.2 large S3 Storage per zone (GB)",
  "A.2 small S3 Monthly Cost",
  "A.2 medium S3 Monthly Cost",
  "A.2 large S3 Monthly Cost",
  "A.2 large Total Monthly Cost",
  "A.3 small Kinesis Analytics Monthly Cost",
  "A.3 medium Kinesis Analytics Monthly Cost",
  "A.3 large Kinesis Analytics Monthly Cost",
  "A.3 medium S3 PUTs per Month based on Size only",
  "A.3 large S3 PUTs per Month based on Size only",
  "A.3 large Total Puts (source backup + Analytics data)",
  "A.3 medium S3 Monthly Cost",
  "A.3 large S3 Monthly Cost",
];

describe("seed 003 Appendix A, recomputed", () => {
  const lines = seedLines(priceBook(SEED_PRICE_BOOK));
  const name = (l: { table: string; scenario: string; line: string }) => `${l.table} ${l.scenario} ${l.line}`;

  it.each(lines.filter((l) => l.consistent).map((l) => [name(l), l] as const))(
    "reproduces %s from its inputs",
    (_name, line) => {
      const factor = 10 ** line.decimals;
      expect(Math.round(line.computed * factor) / factor).toBe(line.stated);
    },
  );

  it("names exactly the lines that do not follow from their inputs, each with the reason", () => {
    const inconsistent = lines.filter((l) => !l.consistent);
    expect(inconsistent.map(name).sort()).toEqual([...INCONSISTENT].sort());
    for (const line of inconsistent) expect(line.note, name(line)).toMatch(/.{20,}/);
  });

  it("covers the A.2 and A.3 lines the issue names: Firehose, S3, Lambda, DynamoDB, KDA", () => {
    const covered = new Set(lines.filter((l) => l.table !== "A.1").map((l) => l.line));
    for (const needed of [
      "Firehose Monthly Cost",
      "S3 Monthly Cost",
      "Lambda Monthly Cost",
      "DynamoDB Monthly Cost (50 RCU)",
      "Kinesis Analytics Monthly Cost",
    ]) {
      expect(covered).toContain(needed);
    }
  });

  it("reproduces the KDA line's arithmetic as it should be and keeps the printed totals", () => {
    const kda = lines.find((l) => l.line === "Kinesis Analytics Monthly Cost" && l.scenario === "small");
    expect(kda?.computed).toBeCloseTo(92.4, 10);
    expect(kda?.note).toContain("$600.00");
    expect(seedCombinedTotal("small")).toBeCloseTo(388.28 + 18.11 + 705.82, 10);
    expect(SEED_TOTALS.realTimeAnalytics.large).toBe(1312.05);
  });
});
