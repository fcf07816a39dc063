import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_EVENT_TIME_MS, MIN_EVENT_TIME_MS, parseEventTime } from "../../src/telemetry/event-time.ts";

const ms = (value: unknown) => {
  const result = parseEventTime(value);
  return result.ok ? result.ms : result.reason;
};

describe("parseEventTime", () => {
  it("reads the seeds' forms", () => {
    expect(ms("2018-01-27T05:11:50")).toBe(Date.UTC(2018, 0, 27, 5, 11, 50)); // seed 003: no zone = UTC
    expect(ms("2024-03-01T12:00:00.123456")).toBe(Date.UTC(2024, 2, 1, 12, 0, 0, 123)); // Python isoformat
    expect(ms(1472611226005)).toBe(1472611226005); // seed 000
    expect(ms("1508039751778")).toBe(1508039751778); // quoted epoch ms (KDG template)
  });

  it("honours zones and offsets", () => {
    expect(ms("2024-03-01T12:00:00Z")).toBe(Date.UTC(2024, 2, 1, 12));
    expect(ms("2024-03-01T12:00:00+02:00")).toBe(Date.UTC(2024, 2, 1, 10));
    expect(ms("2024-03-01T12:00:00-0530")).toBe(Date.UTC(2024, 2, 1, 17, 30));
    expect(ms("2024-03-01 12:00")).toBe(Date.UTC(2024, 2, 1, 12));
  });

  it("rejects impossible dates, junk and out-of-range times with a reason", () => {
    for (const bad of [
      "2021-02-30T00:00:00",
      "2021-13-01T00:00:00",
      "2021-01-01T24:00:00",
      "yesterday",
      "",
      "12:00",
    ]) {
      expect(parseEventTime(bad).ok, bad).toBe(false);
    }
    expect(parseEventTime(null).ok).toBe(false);
    expect(parseEventTime({}).ok).toBe(false);
    expect(parseEventTime(Number.NaN).ok).toBe(false);
    expect(parseEventTime(0).ok).toBe(false);
    expect(ms(1472611226)).toContain("epoch seconds");
    expect(parseEventTime(MAX_EVENT_TIME_MS).ok).toBe(false);
  });

  it("round-trips every in-range ISO time", () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_EVENT_TIME_MS, max: MAX_EVENT_TIME_MS - 1 }), (t) => {
        expect(ms(new Date(t).toISOString())).toBe(t);
        expect(ms(t)).toBe(t);
        expect(ms(String(t))).toBe(t);
      }),
    );
  });
});
