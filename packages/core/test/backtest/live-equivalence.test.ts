import { describe, expect, it } from "vitest";
import { runBacktest } from "../../src/backtest/backtest.ts";
import { rcfDetectorFactory } from "../../src/scoring/rcf-detector-factory.ts";
import { thresholdRuleSchema } from "../../src/thresholds/threshold-rule.ts";
import { device, envelopesOf, lakeReadingsOf, MIN, pressureSeries, T0 } from "./fixtures.ts";
import { scoreLive } from "./live-run.ts";

// The same detector code as live with a smaller forest (the KDA forest's 100 trees only make the test slower): it
// fills after 64 points, so the anomaly rule takes part.
const detectors = () =>
  rcfDetectorFactory({ forest: { numberOfTrees: 30, sampleSize: 64, outputAfter: 64 } });

describe("backtest vs the live scorer", () => {
  it("raises exactly what the live scoring path raised for the same readings and rule", async () => {
    const planted = new Set([280, 281, 350, 420, 421, 422, 500]);
    const series = pressureSeries(560, planted, 11);
    // Also a stuck run, so the stuck rule takes part.
    for (let i = 430; i < 450; i++) series[i].value = 3.3;
    const envelopes = envelopesOf(series);
    const rule = thresholdRuleSchema.parse({
      scope: `device#${device.deviceId}`,
      bounds: { pressure: { max: 6 } },
    });

    // Live: Kinesis batches of 7 records, windows by arrival, state carried between invokes, final invoke per window.
    const liveRun = await scoreLive(envelopes, [rule], detectors());
    const live = liveRun.alerts.map((a) => `${a.rule}@${a.ts}`).sort();

    // Backtest: the lake's readings of the same messages, the stored rule as the candidate.
    const readings = await lakeReadingsOf(envelopes);
    const report = await runBacktest(
      {
        device,
        readings,
        rules: [],
        candidate: { bounds: { pressure: { max: 6 } } },
        fromMs: T0,
        toMs: T0 + 560 * MIN,
      },
      { windowMs: MIN, detectors: detectors() },
    );
    const liveByRule = liveRun.byRule;
    expect(live.length).toBeGreaterThan(planted.size); // bounds + stuck (+ whatever the forest flagged)
    expect(liveByRule["stuck:pressure"]).toBe(1);
    expect(liveByRule.anomaly ?? 0).toBeGreaterThan(0);
    expect(report.candidate.byRule).toEqual(liveByRule);
    expect(report.candidate.alerts).toBe(live.length);
    // And record for record the same scores (same forest, same order).
    const liveScores = liveRun.archive.map((r) => `${r.ts}:${r.score}:${r.rules.join("+")}`);
    expect(liveScores.length).toBe(560);
    const again = await runBacktest(
      {
        device,
        readings,
        rules: [rule],
        candidate: { bounds: { pressure: { max: 6 } } },
        fromMs: T0,
        toMs: T0 + 560 * MIN,
      },
      { windowMs: MIN, detectors: detectors() },
    );
    expect(again.current).toEqual(report.candidate);
  }, 120_000); // one live run and two backtests: a few seconds idle, much longer on a loaded machine
});
