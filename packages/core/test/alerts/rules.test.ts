import { describe, expect, it } from "vitest";
import { alertText, describeCause, formatValue } from "../../src/alerts/alert-text.ts";
import { anomalyRule, causingMetrics, type Detection } from "../../src/alerts/anomaly-rule.ts";
import { boundsRule } from "../../src/alerts/bounds-rule.ts";
import { silenceAlert } from "../../src/alerts/build-alert.ts";
import { evaluateRecord } from "../../src/alerts/record-rules.ts";
import { SeriesBaseline } from "../../src/alerts/series-baseline.ts";
import { silenceRule } from "../../src/alerts/silence-rule.ts";
import { stuckRule } from "../../src/alerts/stuck-rule.ts";
import { alertSchema } from "../../src/alerts/alert.ts";
import { StuckTracker } from "../../src/scoring/stuck-tracker.ts";
import { resolveThresholds } from "../../src/thresholds/resolve.ts";
import { thresholdRuleSchema } from "../../src/thresholds/threshold-rule.ts";
import type { SilentDevice } from "../../src/window/presence.ts";

const device = { deviceId: "pump-1", manufacturer: "acme", model: "p1" };
const none = resolveThresholds(device, []);

function detection(over: Partial<Detection> = {}): Detection {
  return {
    score: 4,
    anomaly: true,
    newEpisode: true,
    calibrated: true,
    attribution: [
      { metric: "flow", value: 91, contribution: 3.2, direction: "HIGH" },
      { metric: "pressure", value: 2.1, contribution: 0.5, direction: "LOW" },
      { metric: "temp", value: 20, contribution: 0.3, direction: "HIGH" },
    ],
    ...over,
  };
}

describe("anomaly rule", () => {
  it("counts every anomaly of a calibrated model and raises only the first of an episode", () => {
    const rangeOf = () => ({ min: 40.123456, max: 60 });
    const first = anomalyRule({ deviceId: "pump-1", detection: detection(), thresholds: none, rangeOf });
    expect(first).toMatchObject({ rule: "anomaly", raise: true, metrics: ["flow"] });
    expect(first?.message).toBe("anomaly on pump-1: flow 91 HIGH (expected 40.12..60); RCF score 4");
    const inside = anomalyRule({
      deviceId: "pump-1",
      detection: detection({ newEpisode: false }),
      thresholds: none,
      rangeOf,
    });
    expect(inside).toMatchObject({ raise: false });
    expect(
      anomalyRule({
        deviceId: "pump-1",
        detection: detection({ anomaly: false }),
        thresholds: none,
        rangeOf,
      }),
    ).toBeUndefined();
  });

  it("raises nothing before the model is calibrated, also with an explicit scoreThreshold while the forest warms up", () => {
    const rangeOf = () => undefined;
    expect(
      anomalyRule({ deviceId: "d", detection: detection({ calibrated: false }), thresholds: none, rangeOf }),
    ).toBeUndefined();
    const explicit = resolveThresholds(device, [
      thresholdRuleSchema.parse({ scope: "global", scoreThreshold: 2 }),
    ]);
    expect(
      anomalyRule({ deviceId: "d", detection: detection({ score: 0 }), thresholds: explicit, rangeOf }),
    ).toBeUndefined();
    // A calibrated forest with an explicit threshold: raw score above it, regardless of the grading.
    const fired = anomalyRule({
      deviceId: "d",
      detection: detection({ anomaly: false, calibrated: false, score: 2.5 }),
      thresholds: explicit,
      rangeOf,
    });
    expect(fired?.message).toBe("anomaly on d: flow 91 HIGH; RCF score 2.5 above scoreThreshold 2");
  });

  it("quotes the detector's own expected range when it has one (per-series normalisation)", () => {
    const fired = anomalyRule({
      deviceId: "pump-1",
      detection: detection({ expected: { flow: { min: 10, max: 20 } } }),
      thresholds: none,
      rangeOf: () => ({ min: 0, max: 1 }),
    });
    expect(fired?.causes).toEqual([
      { metric: "flow", value: 91, direction: "HIGH", expected: { min: 10, max: 20 } },
    ]);
  });

  it("names the metrics that explain most of the score, and only those", () => {
    expect(causingMetrics(detection().attribution).map((a) => a.metric)).toEqual(["flow"]);
    const even = detection({
      attribution: [
        { metric: "a", value: 1, contribution: 1, direction: "HIGH" },
        { metric: "b", value: 2, contribution: 1, direction: "LOW" },
        { metric: "c", value: 3, contribution: 0.1, direction: "HIGH" },
      ],
    });
    expect(causingMetrics(even.attribution).map((a) => a.metric)).toEqual(["a", "b"]);
  });
});

describe("bounds rule and alert text", () => {
  it("a bound alert on pressure names pressure only, with its value and range", () => {
    const thresholds = resolveThresholds(device, [
      thresholdRuleSchema.parse({
        scope: "global",
        bounds: { pressure: { min: 1, max: 150 }, flow: { max: 100 } },
      }),
    ]);
    const firings = boundsRule({ deviceId: "pump-1", metrics: { pressure: 180, flow: 99 }, thresholds });
    expect(firings).toHaveLength(1);
    expect(firings[0]).toMatchObject({ rule: "bound:pressure:high", metrics: ["pressure"] });
    expect(firings[0].message).toBe(
      "bound:pressure:high on pump-1: pressure 180 HIGH (expected 1..150); bounds of global",
    );
    expect(firings[0].message).not.toMatch(/flow/);
  });

  it("formats values and ranges for people", () => {
    expect(formatValue(3)).toBe("3");
    expect(formatValue(12.34567)).toBe("12.346");
    expect(formatValue(0.000123456)).toBe("0.0001");
    expect(formatValue(123456.78)).toBe("123456.8");
    expect(describeCause({ metric: "t", value: 5, expected: { max: 4 } })).toBe("t 5 (expected <= 4)");
    expect(describeCause({ metric: "t", value: 5, expected: { min: 6 }, direction: "LOW" })).toBe(
      "t 5 LOW (expected >= 6)",
    );
    expect(alertText({ rule: "r", subject: "s", causes: [] })).toBe("r on s");
  });
});

describe("record rules", () => {
  it("the alert of a record holds only the causing metrics; every metric of an RCF anomaly counts as anomalous", () => {
    const state = { stuck: new StuckTracker(), baseline: new SeriesBaseline(), defaultStuckReadings: 10 };
    const verdict = evaluateRecord(
      {
        deviceId: "pump-1",
        timeMs: 0,
        metricNames: ["flow", "pressure", "temp"],
        values: [91, 2.1, 20],
        detection: detection({ newEpisode: false }),
        thresholds: none,
      },
      state,
    );
    expect(verdict.anomalous).toBe(true);
    expect(verdict.firings.map((f) => [f.rule, f.raise])).toEqual([["anomaly", false]]);
    expect([...verdict.anomalousMetrics].sort()).toEqual(["flow", "pressure", "temp"]);
  });

  it("stuck text names the metric, its value and the run", () => {
    const firing = stuckRule("pump-1", {
      metric: "temp",
      value: 20.5,
      stuck: true,
      raise: true,
      runLength: 12,
      runStartMs: Date.UTC(2024, 0, 1),
      limit: 10,
    } as Parameters<typeof stuckRule>[1]);
    expect(firing?.message).toBe(
      "stuck:temp on pump-1: temp 20.5; unchanged for 12 readings since 2024-01-01T00:00:00.000Z (stuck sensor, limit 10)",
    );
  });
});

describe("silence rule", () => {
  const silent = (deviceId: string, site?: string): SilentDevice => ({
    deviceId,
    entry: {
      lastSeenMs: 0,
      lastArrivalMs: 59_000,
      site,
      manufacturer: "acme",
      model: "p1",
      intervals: [1000, 1000, 1000],
    },
    quietWindows: 3,
    spannedWindows: 4,
    cadenceMs: 1000,
    missedIntervals: 180,
  });

  it("one device quiet: one device silence naming its cadence", () => {
    const [d] = silenceRule({ due: [silent("a-1", "a")], quiet: [], siteSize: () => 5 });
    expect(d).toMatchObject({ scope: "device" });
    expect(d.message).toBe(
      "silence on a-1: no reading since 1970-01-01T00:00:59.000Z, 180 of its 1 s intervals missed (3 windows quiet)",
    );
  });

  it("most devices of a site quiet together: one silence:site decision listing them (quiet ones not yet due join)", () => {
    const decisions = silenceRule({
      due: [silent("a-2", "a"), silent("a-1", "a"), silent("b-1", "b")],
      quiet: [silent("a-3", "a")],
      siteSize: (site) => (site === "a" ? 5 : 4),
    });
    expect(decisions.map((d) => d.scope)).toEqual(["site", "device"]);
    const site = decisions[0];
    if (site.scope !== "site") throw new Error("expected a site decision");
    expect(site.devices.map((d) => d.deviceId)).toEqual(["a-1", "a-2", "a-3"]);
    const alert = alertSchema.parse(silenceAlert(site, { shardId: "s-0", windowStartMs: 180_000 }));
    expect(alert).toMatchObject({
      rule: "silence:site",
      deviceId: "site:a",
      site: "a",
      devices: ["a-1", "a-2", "a-3"],
    });
    // A minority of a site stays per device.
    const minority = silenceRule({
      due: [silent("a-1", "a"), silent("a-2", "a")],
      quiet: [],
      siteSize: () => 5,
    });
    expect(minority.map((d) => d.scope)).toEqual(["device", "device"]);
  });
});

describe("series baseline (the usual range in alert text)", () => {
  it("learns a series' range; a spike does not widen it, a lasting change moves it", () => {
    const b = new SeriesBaseline();
    expect(b.range("d", "m")).toBeUndefined();
    for (let i = 0; i < 200; i++) b.update("d", "m", 50 + (i % 2 ? 1 : -1));
    const before = b.range("d", "m")!;
    expect(before.min).toBeGreaterThan(45);
    expect(before.max).toBeLessThan(55);
    b.update("d", "m", 500);
    const after = b.range("d", "m")!;
    expect(after.max).toBeLessThan(56);
    for (let i = 0; i < 400; i++) b.update("d", "m", 80 + (i % 2 ? 1 : -1));
    const moved = b.range("d", "m")!;
    expect(moved.min).toBeLessThan(80);
    expect(moved.max).toBeGreaterThan(80);
    expect(moved.max).toBeLessThan(100);
  });

  it("forgets the least recently updated series beyond maxSeries (an update makes a series recent)", () => {
    const b = new SeriesBaseline({ minReadings: 1, maxSeries: 3 });
    b.update("a", "x", 1);
    b.update("b", "x", 1);
    b.update("a", "y", 1);
    b.update("a", "x", 2); // a/x is now the most recent
    b.update("b", "x", Number.NaN); // ignored: no update, b/x stays the least recent
    b.update("c", "x", 1); // a fourth series: b/x goes
    expect(b.size).toBe(3);
    expect(b.range("b", "x")).toBeUndefined();
    expect(b.range("a", "x")).toBeDefined();
    b.update("d", "x", 1); // then a/y, the least recent now
    expect(b.range("a", "y")).toBeUndefined();
    expect([b.range("a", "x"), b.range("c", "x"), b.range("d", "x")].every((r) => r !== undefined)).toBe(
      true,
    );
    b.update("b", "x", 5); // a forgotten series starts again from its first reading
    expect(b.range("b", "x")).toEqual({ min: 5, max: 5 });
    expect(b.size).toBe(3);
  });
});
