import { describe, expect, it } from "vitest";
import { cadenceOf, PresenceTracker } from "../../src/window/presence.ts";

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

/** A device reporting every `everyMs` from `fromMs` for `n` readings (arrival times), in windows of a minute. */
function report(
  p: PresenceTracker,
  deviceId: string,
  fromMs: number,
  n: number,
  everyMs: number,
  site?: string,
) {
  for (let i = 0; i < n; i++) {
    const at = fromMs + i * everyMs;
    p.observe(deviceId, at, Math.floor(at / MIN) * MIN, { manufacturer: "acme", model: "m1", site });
  }
}

const candidates = (p: PresenceTracker, windowStartMs: number, limit = 3) =>
  p.silenceCandidates(windowStartMs, windowStartMs + MIN, MIN, () => limit);

describe("presence tracker (silent devices)", () => {
  it("learns a device's cadence from its own arrival intervals; one message is no cadence", () => {
    const p = new PresenceTracker();
    report(p, "once", T0, 1, 0);
    report(p, "regular", T0, 10, 5_000);
    expect(cadenceOf(p.get("once")!)).toBeUndefined();
    expect(cadenceOf(p.get("regular")!)).toBe(5_000);
    // Duplicates and late (earlier) arrivals teach nothing.
    p.observe("regular", T0 + 9 * 5_000, T0, {});
    p.observe("regular", T0, T0, {});
    expect(p.get("regular")?.intervals).toHaveLength(9);
    expect(cadenceOf(p.get("regular")!)).toBe(5_000);
    // Long after: the device that sent one message is never silent.
    const { due, quiet } = candidates(p, T0 + 60 * MIN);
    expect(due.map((d) => d.deviceId)).toEqual(["regular"]);
    expect(quiet).toEqual([]);
  });

  it("is due only after missing several of its own intervals AND the quiet windows; 0 disables", () => {
    const p = new PresenceTracker();
    // A slow device: every 2 minutes. Three quiet windows are fewer than 4 of its intervals.
    report(p, "slow", T0, 5, 2 * MIN);
    const last = T0 + 8 * MIN;
    expect(candidates(p, last + 3 * MIN).due).toEqual([]);
    const due = candidates(p, last + 9 * MIN).due;
    expect(due.map((d) => [d.deviceId, d.cadenceMs])).toEqual([["slow", 2 * MIN]]);
    expect(due[0].missedIntervals).toBeGreaterThanOrEqual(4);
    expect(candidates(p, last + 9 * MIN, 0)).toEqual({ due: [], quiet: [] });
    // A fast device quiet for one window is quiet, not yet due (limit 3).
    report(p, "fast", T0, 60, 1_000);
    const { due: d2, quiet } = candidates(p, T0 + MIN);
    expect(d2).toEqual([]);
    expect(quiet.map((d) => [d.deviceId, d.quietWindows])).toEqual([["fast", 1]]);
  });

  it("an outage lasting silenceWindows windows is due at some window end whatever its phase; under two whole windows never", () => {
    // A 1 Hz device; it goes quiet at every phase of a window (second 0..59) for 180 s (3 windows) or 119 s.
    for (let phaseS = 0; phaseS < 60; phaseS += 7) {
      for (const [outageS, expectDue] of [
        [180, true],
        [119, false],
      ] as const) {
        const p = new PresenceTracker();
        const start = T0 + 5 * MIN + phaseS * 1000;
        report(p, "d", T0, (start - T0) / 1000, 1_000);
        const back = start + outageS * 1000; // first reading after the outage
        let due = false;
        // Window ends strictly inside the gap, each evaluated as its window's final invoke.
        for (let w = Math.floor(start / MIN) * MIN; w + MIN < back; w += MIN) {
          if (candidates(p, w).due.length > 0) due = true;
        }
        expect([phaseS, outageS, due]).toEqual([phaseS, outageS, expectDue]);
      }
    }
  });

  it("raises once per quiet spell, survives a round trip, and a device that reports again starts a new spell", () => {
    const p = new PresenceTracker();
    report(p, "a", T0, 20, 1_000, "s1");
    p.markSeen("a", T0);
    const due = candidates(p, T0 + 3 * MIN).due;
    expect(due.map((d) => [d.deviceId, d.quietWindows])).toEqual([["a", 3]]);
    p.markSilenced("a", "site");
    expect(p.siteStillSilent("s1")).toBe(true);
    const restored = PresenceTracker.fromBytes(p.toBytes());
    expect(candidates(restored, T0 + 4 * MIN).due).toEqual([]);
    expect(restored.get("a")).toMatchObject({
      manufacturer: "acme",
      site: "s1",
      silenced: true,
      silencedBy: "site",
    });
    expect(restored.returning("a")).toBe("site");
    report(restored, "a", T0 + 5 * MIN, 5, 1_000, "s1");
    expect(restored.returning("a")).toBeUndefined();
    expect(restored.siteStillSilent("s1")).toBe(false);
    expect(candidates(restored, T0 + 9 * MIN).due.map((d) => d.deviceId)).toEqual(["a"]);
  });

  it("never moves last-seen backwards, lists a site's devices with a cadence and forgets long-silenced devices", () => {
    const p = new PresenceTracker();
    p.markSeen("a", T0 + 5 * MIN);
    p.markSeen("a", T0);
    expect(p.get("a")?.lastSeenMs).toBe(T0 + 5 * MIN);
    report(p, "b", T0, 5, 1_000, "s1");
    report(p, "c", T0, 1, 1_000, "s1");
    expect(p.siteDevices("s1")).toEqual(["b"]);
    p.markSilenced("a");
    p.prune(T0 + 100 * MIN, 10 * MIN);
    expect(p.get("a")).toBeUndefined();
    expect(p.size).toBe(2);
    expect(PresenceTracker.fromBytes(undefined).size).toBe(0);
  });
});
