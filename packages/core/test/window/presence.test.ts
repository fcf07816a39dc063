import { describe, expect, it } from "vitest";
import { PresenceTracker } from "../../src/window/presence.ts";

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

describe("presence tracker (silent devices)", () => {
  it("reports a device quiet for N windows once per quiet spell and survives a round trip", () => {
    const p = new PresenceTracker();
    p.markSeen("a", T0, { manufacturer: "acme", model: "m1" });
    p.markSeen("b", T0);
    p.markSeen("b", T0 + 2 * MIN);
    expect(p.dueForSilence(T0 + 2 * MIN, MIN, () => 3)).toEqual([]);
    const due = p.dueForSilence(T0 + 3 * MIN, MIN, () => 3);
    expect(due.map((d) => [d.deviceId, d.quietWindows])).toEqual([["a", 3]]);
    p.markSilenced("a");
    const restored = PresenceTracker.fromBytes(p.toBytes());
    expect(restored.dueForSilence(T0 + 4 * MIN, MIN, () => 3)).toEqual([]);
    expect(restored.get("a")).toMatchObject({ manufacturer: "acme", silenced: true });
    // The device comes back: a new spell can be reported later.
    restored.markSeen("a", T0 + 5 * MIN);
    expect(restored.get("a")?.silenced).toBeUndefined();
    expect(restored.dueForSilence(T0 + 8 * MIN, MIN, () => 3).map((d) => d.deviceId)).toEqual(["a", "b"]);
  });

  it("never moves last-seen backwards, honours per-device limits and forgets long-silenced devices", () => {
    const p = new PresenceTracker();
    p.markSeen("a", T0 + 5 * MIN);
    p.markSeen("a", T0);
    expect(p.get("a")?.lastSeenMs).toBe(T0 + 5 * MIN);
    expect(p.dueForSilence(T0 + 6 * MIN, MIN, () => 1).map((d) => d.deviceId)).toEqual(["a"]);
    expect(p.dueForSilence(T0 + 6 * MIN, MIN, () => 0)).toEqual([]); // 0 disables
    p.markSilenced("a");
    p.prune(T0 + 100 * MIN, 10 * MIN);
    expect(p.size).toBe(0);
    expect(PresenceTracker.fromBytes(undefined).size).toBe(0);
  });
});
