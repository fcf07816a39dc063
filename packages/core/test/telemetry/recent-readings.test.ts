import { describe, expect, it } from "vitest";
import { ReadingTail, RecentReadings } from "../../src/telemetry/recent-readings.ts";

describe("RecentReadings (ADR 0203)", () => {
  it("remembers exactly the last `capacity` identities, oldest forgotten first", () => {
    const recent = new RecentReadings(3);
    for (const id of ["a", "b", "c", "d"]) expect(recent.isDuplicate(id, `seq-${id}`)).toBe(false);
    expect(recent.size).toBe(3);
    // "a" was the oldest: forgotten, so a resend of it is no longer recognised (and is recorded again).
    expect(recent.isDuplicate("a", "seq-other")).toBe(false);
    // "b" went out when "a" came back; "c" and "d" are still remembered under their first markers.
    expect(recent.isDuplicate("c", "seq-other")).toBe(true);
    expect(recent.isDuplicate("d", "seq-d")).toBe(false); // a retry of the same record
    expect(recent.isDuplicate("b", "seq-other")).toBe(false);
    expect(recent.size).toBe(3);
  });

  it("a lookup does not refresh an identity: eviction follows recording order", () => {
    const recent = new RecentReadings(2);
    recent.isDuplicate("a", "1");
    recent.isDuplicate("b", "2");
    expect(recent.isDuplicate("a", "9")).toBe(true); // seen, not re-recorded
    recent.isDuplicate("c", "3"); // evicts "a", the first recorded
    expect(recent.isDuplicate("b", "9")).toBe(true);
    expect(recent.isDuplicate("a", "9")).toBe(false);
  });

  it("forget drops one identity; its slot is reused without evicting a newer one", () => {
    const recent = new RecentReadings(3);
    recent.isDuplicate("a", "1");
    recent.isDuplicate("b", "2");
    recent.forget("a");
    recent.forget("missing");
    recent.forget(undefined);
    expect(recent.size).toBe(1);
    // Retried under another marker after a failure: not a duplicate of itself.
    expect(recent.isDuplicate("a", "4")).toBe(false);
    recent.isDuplicate("c", "5"); // the ring wraps onto the slot "a" first had (forgotten): nothing else goes
    expect(recent.isDuplicate("a", "9")).toBe(true);
    expect(recent.isDuplicate("b", "9")).toBe(true);
    expect(recent.isDuplicate("c", "9")).toBe(true);
    recent.isDuplicate("d", "6"); // now the oldest live one ("b") goes
    expect(recent.isDuplicate("b", "9")).toBe(false);
  });

  it("keeps exactly the last `capacity` after the ring has wrapped many times", () => {
    const capacity = 20_000;
    const recent = new RecentReadings(capacity);
    let duplicates = 0;
    for (let i = 0; i < capacity * 6; i++) if (recent.isDuplicate(`rd_${i}`, `s${i}`)) duplicates++;
    expect(duplicates).toBe(0);
    expect(recent.size).toBe(capacity);
    // The window is exactly the last `capacity` recorded: the newest is there, the one just before it is gone.
    expect(recent.isDuplicate(`rd_${capacity * 6 - capacity}`, "x")).toBe(true);
    expect(recent.isDuplicate(`rd_${capacity * 6 - capacity - 1}`, "x")).toBe(false);
  });

  it("rejects a capacity below 1", () => {
    expect(() => new RecentReadings(0)).toThrow(RangeError);
  });

  it("ReadingTail marks its pairs in a RecentReadings across a restart", () => {
    const tail = new ReadingTail(2);
    tail.push("a", "1");
    tail.push("b", "2");
    tail.push("c", "3");
    const recent = new RecentReadings();
    ReadingTail.decode(tail.encode()).markIn(recent);
    expect(recent.isDuplicate("b", "9")).toBe(true);
    expect(recent.isDuplicate("c", "3")).toBe(false);
    expect(recent.isDuplicate("a", "9")).toBe(false);
  });
});
