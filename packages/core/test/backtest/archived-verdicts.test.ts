import { describe, expect, it } from "vitest";
import { archivedVerdictSchema, type ArchivedVerdict } from "../../src/backtest/archived-verdicts.ts";
import { runBacktest } from "../../src/backtest/backtest.ts";
import { runRulePass, type PassRecord } from "../../src/backtest/rule-pass.ts";
import { detectionOfResult } from "../../src/scoring/record-detection.ts";
import type { DetectorFactory } from "../../src/scoring/detector-pool.ts";
import { rcfDetectorFactory } from "../../src/scoring/rcf-detector-factory.ts";
import { scoredRecordSchema } from "../../src/scoring/scored-record.ts";
import { defaultModelKey } from "../../src/telemetry/prepare.ts";
import { resolveThresholds } from "../../src/thresholds/resolve.ts";
import { thresholdRuleSchema } from "../../src/thresholds/threshold-rule.ts";
import { device, envelopesOf, lakeReadingsOf, MIN, pressureSeries, T0 } from "./fixtures.ts";
import { scoreLive } from "./live-run.ts";

const detectors = () =>
  rcfDetectorFactory({ forest: { numberOfTrees: 30, sampleSize: 64, outputAfter: 64 } });
/** A factory that fails if the backtest runs a forest. */
const noForest: DetectorFactory = {
  create: () => {
    throw new Error("the forest ran");
  },
  restore: () => {
    throw new Error("the forest ran");
  },
};
/** What the scores archive holds, read back as the lake readers return verdicts (JSON round trip, strict schema). */
const verdictsOf = (records: unknown[]): ArchivedVerdict[] =>
  records.map((r) => {
    const { deviceId, ts, receivedAt, metrics, score, grade, attribution, detection } =
      scoredRecordSchema.parse(JSON.parse(JSON.stringify(r)));
    return archivedVerdictSchema.parse({
      deviceId,
      ts,
      receivedAt,
      metrics,
      score,
      grade,
      attribution,
      detection,
    });
  });

describe("backtest on archived live verdicts", () => {
  const planted = new Set([280, 281, 350, 420, 421, 422, 500]);
  const series = pressureSeries(560, planted, 11);
  for (let i = 430; i < 450; i++) series[i].value = 3.3;
  const envelopes = envelopesOf(series);
  const rule = thresholdRuleSchema.parse({
    scope: `device#${device.deviceId}`,
    bounds: { pressure: { max: 6 } },
  });
  const range = { fromMs: T0 + 100 * MIN, toMs: T0 + 560 * MIN };

  it("uses the live detector's own verdicts (no forest) and raises exactly what live raised; a stricter candidate raises more bound alerts", async () => {
    const live = await scoreLive(envelopes, [rule], detectors());
    expect(live.archive).toHaveLength(560);
    expect(live.archive.every((r) => r.detection !== undefined)).toBe(true);
    const readings = await lakeReadingsOf(envelopes);
    const report = await runBacktest(
      {
        device,
        readings,
        verdicts: verdictsOf(live.archive),
        rules: [rule],
        candidate: { bounds: { pressure: { max: 5.5 } } },
        fromMs: T0,
        toMs: range.toMs,
      },
      { windowMs: MIN, detectors: noForest },
    );
    expect(report.detector).toEqual({ source: "archived", archivedVerdicts: 560, readingsWithoutVerdict: 0 });
    expect(live.byRule.anomaly ?? 0).toBeGreaterThan(0);
    expect(live.byRule["stuck:pressure"]).toBe(1);
    expect(report.current.byRule).toEqual(live.byRule);
    expect(report.current.alerts).toBe(live.alerts.length);
    expect(report.candidate.byRule["bound:pressure:high"]).toBeGreaterThanOrEqual(
      report.current.byRule["bound:pressure:high"],
    );
    // Without the verdicts, the same rules through a forest of the same settings find the same bound and stuck alerts.
    const forest = await runBacktest(
      {
        device,
        readings,
        rules: [rule],
        candidate: { bounds: { pressure: { max: 5.5 } } },
        fromMs: T0,
        toMs: range.toMs,
      },
      { windowMs: MIN, detectors: detectors() },
    );
    expect(forest.detector.source).toBe("forest");
    expect(forest.current).toEqual(report.current);
  }, 120_000);

  it("falls back to warm-up + forest when some reading of the range has no verdict (older archive, gap), saying so", async () => {
    const live = await scoreLive(envelopes.slice(0, 200), [], detectors());
    const readings = await lakeReadingsOf(envelopes.slice(0, 200));
    const verdicts = verdictsOf(live.archive);
    const input = { device, readings, rules: [], candidate: {}, fromMs: T0 + 50 * MIN, toMs: T0 + 200 * MIN };
    // Warm-up readings without a verdict do not matter: archived.
    const warmOnly = await runBacktest(
      { ...input, verdicts: verdicts.slice(40) },
      { windowMs: MIN, detectors: noForest },
    );
    expect(warmOnly.detector).toEqual({
      source: "archived",
      archivedVerdicts: 150,
      readingsWithoutVerdict: 0,
    });
    // One reading of the range without one: the forest.
    const gap = await runBacktest(
      { ...input, verdicts: verdicts.filter((_, i) => i !== 120) },
      { windowMs: MIN, detectors: detectors() },
    );
    expect(gap.detector).toEqual({ source: "forest", archivedVerdicts: 149, readingsWithoutVerdict: 1 });
    // Records archived before the verdict existed are not verdicts (the lake readers leave them out; the schema too).
    const old = JSON.parse(JSON.stringify(live.archive[0])) as Record<string, unknown>;
    delete old.detection;
    expect(scoredRecordSchema.parse(old).detection).toBeUndefined();
    const none = await runBacktest(input, { windowMs: MIN, detectors: detectors() });
    expect(none.detector).toEqual({ source: "forest", archivedVerdicts: 0, readingsWithoutVerdict: 150 });
  }, 120_000);
});

describe("runRulePass", () => {
  it("gives every rule set in one pass what it gives alone, whether or not their stuck and silence settings differ", async () => {
    const series = pressureSeries(400, new Set([50, 51, 300]), 5).filter((_, i) => i < 150 || i >= 175);
    for (let i = 200; i < 215; i++) series[i].value = 3.1;
    const readings = await lakeReadingsOf(envelopesOf(series));
    const records: PassRecord[] = readings.map((reading) => ({
      reading,
      timeMs: Date.parse(reading.ts),
      metricNames: ["pressure"],
      values: [reading.metrics.pressure],
      modelKey: defaultModelKey(reading),
    }));
    const forest = detectors().create(1);
    const detections = records.map((r) =>
      detectionOfResult(forest.process(r.values, device.deviceId), ["pressure"], r.values),
    );
    const sets = [
      resolveThresholds(device, []),
      resolveThresholds(device, [
        thresholdRuleSchema.parse({ scope: `device#${device.deviceId}`, bounds: { pressure: { max: 5 } } }),
      ]),
      resolveThresholds(device, [
        thresholdRuleSchema.parse({
          scope: `device#${device.deviceId}`,
          silenceWindows: 0,
          stuckReadings: 5,
        }),
      ]),
      resolveThresholds(device, [
        thresholdRuleSchema.parse({ scope: "global", scoreThreshold: 2, silenceWindows: 10 }),
      ]),
    ];
    const options = { windowMs: MIN };
    const together = await runRulePass(records, (i) => detections[i], sets, options);
    for (let s = 0; s < sets.length; s++) {
      const [alone] = await runRulePass(records, (i) => detections[i], [sets[s]], options);
      expect(together[s]).toEqual(alone);
    }
    const rules = (o: (typeof together)[number]) => o.alerts.map((a) => a.rule).sort();
    expect(rules(together[0])).toContain("silence");
    expect(rules(together[1])).toContain("bound:pressure:high");
    expect(rules(together[2])).not.toContain("silence");
    expect(rules(together[2]).filter((r) => r === "stuck:pressure").length).toBeGreaterThanOrEqual(
      rules(together[0]).filter((r) => r === "stuck:pressure").length,
    );
  });
});
