import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runBacktest } from "../../src/backtest/backtest.ts";
import { backtestRequestSchema } from "../../src/backtest/backtest-request.ts";
import { rcfDetectorFactory } from "../../src/scoring/rcf-detector-factory.ts";
import { envelopesOf, device, lakeReadingsOf, MIN, pressureSeries, prng, T0 } from "./fixtures.ts";

const options = { windowMs: MIN, detectors: rcfDetectorFactory() };
const small = rcfDetectorFactory({ forest: { numberOfTrees: 10, sampleSize: 32, outputAfter: 32 } });

describe("runBacktest", () => {
  it("finds exactly the planted bound violations, and none with no bound set", async () => {
    const planted = new Set([300, 333, 410, 455, 502, 560]);
    const readings = await lakeReadingsOf(envelopesOf(pressureSeries(600, planted)));
    const report = await runBacktest(
      {
        device,
        readings,
        rules: [],
        candidate: { bounds: { pressure: { max: 5 } } },
        fromMs: T0,
        toMs: T0 + 600 * MIN,
      },
      options,
    );
    expect(report.readings).toBe(600);
    expect(report.current.byRule["bound:pressure:high"]).toBeUndefined();
    expect(report.candidate.byRule["bound:pressure:high"]).toBe(planted.size);
    // The detector is shared: whatever it raised, it raised for both rule sets.
    expect(report.candidate.byRule.anomaly).toBe(report.current.byRule.anomaly);
    expect(report.candidate.alerts).toBe(report.current.alerts + planted.size);
    expect(report.candidate.readingsInvolved).toBeGreaterThanOrEqual(planted.size);
    const hours = Object.keys(report.candidate.byHour);
    expect(hours.every((h) => /^2024-05-01T\d\d:00:00.000Z$/.test(h))).toBe(true);
  });

  it("counts only the range: readings before `from` warm the state, their alerts are not counted", async () => {
    const planted = new Set([10, 400]);
    const readings = await lakeReadingsOf(envelopesOf(pressureSeries(500, planted)));
    const report = await runBacktest(
      {
        device,
        readings,
        rules: [],
        candidate: { bounds: { pressure: { max: 5 } } },
        fromMs: T0 + 100 * MIN,
        toMs: T0 + 500 * MIN,
      },
      options,
    );
    expect(report.readings).toBe(400);
    expect(report.warmUpReadings).toBe(100);
    expect(report.candidate.byRule["bound:pressure:high"]).toBe(1);
  });

  it("is indifferent to lake order and drops exact duplicates", async () => {
    const planted = new Set([100, 150, 220]);
    const readings = await lakeReadingsOf(envelopesOf(pressureSeries(300, planted)));
    const input = {
      device,
      rules: [],
      candidate: { bounds: { pressure: { max: 5 } } },
      fromMs: T0,
      toMs: T0 + 300 * MIN,
    };
    const ordered = await runBacktest({ ...input, readings }, options);
    const rand = prng(3);
    const shuffled = [...readings, ...readings.slice(50, 80)].sort(() => rand() - 0.5);
    const messy = await runBacktest({ ...input, readings: shuffled }, options);
    expect(messy.duplicates).toBe(30);
    expect(messy.readings).toBe(300);
    expect(messy.current).toEqual(ordered.current);
    expect(messy.candidate).toEqual(ordered.candidate);
  });

  it("keeps a device's repeated timestamps with other values (clock steps are not duplicates)", async () => {
    const readings = await lakeReadingsOf(envelopesOf(pressureSeries(60, new Set())));
    // Another payload, hence another readingId (ADR 0203).
    const stepped = {
      ...readings[30],
      metrics: { pressure: 8 },
      receivedAt: readings[31].receivedAt,
      readingId: "rd_step",
    };
    const report = await runBacktest(
      {
        device,
        readings: [...readings, stepped],
        rules: [],
        candidate: { bounds: { pressure: { max: 5 } } },
        fromMs: T0,
        toMs: T0 + 60 * MIN,
      },
      options,
    );
    expect(report.readings).toBe(61);
    expect(report.duplicates).toBe(0);
    expect(report.candidate.byRule["bound:pressure:high"]).toBe(1);
  });

  it("raises no silence after the device's last reading when the range reaches past it, but does in a gap", async () => {
    const series = pressureSeries(120, new Set()).filter((_, i) => i < 40 || i >= 60);
    const readings = await lakeReadingsOf(envelopesOf(series));
    const report = await runBacktest(
      // The range ends 3 hours after the last reading (e.g. "until now", lake not yet flushed, or the feed stopped).
      { device, readings, rules: [], candidate: {}, fromMs: T0, toMs: T0 + 300 * MIN },
      options,
    );
    expect(report.current.byRule.silence).toBe(1); // the 20-minute gap
    const opened = Date.parse(report.current.incidentList.find((i) => i.rule === "silence")?.openedAt ?? "");
    expect(opened).toBeGreaterThan(T0 + 40 * MIN);
    expect(opened).toBeLessThan(T0 + 60 * MIN);
  });

  it("drops a client's resend (same readingId, later arrival) and keeps the first arrival", async () => {
    const planted = new Set([20]);
    const readings = await lakeReadingsOf(envelopesOf(pressureSeries(60, planted)));
    expect(readings[20].readingId).toBeDefined();
    const resend = {
      ...readings[20],
      receivedAt: new Date(Date.parse(readings[20].receivedAt) + 90_000).toISOString(),
    };
    const input = {
      device,
      rules: [],
      candidate: { bounds: { pressure: { max: 5 } } },
      fromMs: T0,
      toMs: T0 + 60 * MIN,
    };
    const report = await runBacktest({ ...input, readings: [resend, ...readings] }, options);
    expect(report.duplicates).toBe(1);
    expect(report.readings).toBe(60);
    expect(report.candidate.byRule["bound:pressure:high"]).toBe(1);
  });

  it("folds repeated alerts into incidents and warns when the candidate would page more than once an hour", async () => {
    const readings = await lakeReadingsOf(envelopesOf(pressureSeries(240, new Set())));
    const noisy = await runBacktest(
      {
        device,
        readings,
        rules: [],
        candidate: { bounds: { pressure: { max: 3 } } },
        fromMs: T0,
        toMs: T0 + 240 * MIN,
      },
      { ...options, quietMs: 60_000 },
    );
    expect(noisy.candidate.alerts).toBeGreaterThan(noisy.candidate.incidents);
    expect(noisy.candidate.incidents).toBeGreaterThan(4);
    expect(noisy.candidate.noiseWarning).toMatch(/more than once an hour/);
    expect(noisy.current.noiseWarning).toBeNull();
    const folded = await runBacktest(
      {
        device,
        readings,
        rules: [],
        candidate: { bounds: { pressure: { max: 3 } } },
        fromMs: T0,
        toMs: T0 + 240 * MIN,
      },
      options,
    );
    expect(folded.candidate.alerts).toBe(noisy.candidate.alerts);
    expect(folded.candidate.incidents).toBe(1);
  });

  it("a stricter candidate never raises fewer bound alerts (property, fixed seed)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 20, maxLength: 120 }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        async (values, max, tighten) => {
          const series = values.map((value, i) => ({ ts: T0 + i * 20_000, value }));
          const readings = await lakeReadingsOf(envelopesOf(series));
          const run = (bounds: { max: number }) =>
            runBacktest(
              {
                device,
                readings,
                rules: [],
                candidate: { bounds: { pressure: bounds } },
                fromMs: T0,
                toMs: T0 + values.length * 20_000,
              },
              { windowMs: MIN, detectors: small },
            );
          const loose = await run({ max });
          const strict = await run({ max: max - tighten });
          const bound = (r: typeof loose) => r.candidate.byRule["bound:pressure:high"] ?? 0;
          expect(bound(strict)).toBeGreaterThanOrEqual(bound(loose));
        },
      ),
      { seed: 42, numRuns: 30 },
    );
  });
});

describe("backtestRequestSchema", () => {
  it("refuses unknown fields and bad times, naming the field", () => {
    const ok = { deviceId: "d", from: "2024-05-01T00:00:00Z", to: "2024-05-02T00:00:00Z", rule: {} };
    expect(backtestRequestSchema.parse(ok)).toEqual(ok);
    const unknown = backtestRequestSchema.safeParse({ ...ok, extra: 1 });
    expect(unknown.success).toBe(false);
    const badRule = backtestRequestSchema.safeParse({ ...ok, rule: { bounds: { p: { max: 1, mx: 2 } } } });
    expect(badRule.success).toBe(false);
    const reversed = backtestRequestSchema.safeParse({ ...ok, from: ok.to, to: ok.from });
    expect(reversed.error?.issues[0].path).toEqual(["to"]);
    const notTime = backtestRequestSchema.safeParse({ ...ok, from: "yesterday" });
    expect(notTime.error?.issues[0].path).toEqual(["from"]);
  });
});
