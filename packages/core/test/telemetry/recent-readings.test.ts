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

  it("ReadingTail keeps the last `capacity` pairs in order through its ring, and its text as the array did", () => {
    // The former implementation: an array spliced at the front.
    const reference = (pairs: [string, string][], capacity: number) =>
      pairs
        .slice(Math.max(0, pairs.length - capacity))
        .map(([id, seq]) => `${id} ${seq}`)
        .join(";");
    for (const capacity of [1, 3, 7]) {
      const tail = new ReadingTail(capacity);
      const pairs: [string, string][] = [];
      for (let i = 0; i < 25; i++) {
        pairs.push([`rd_${i}`, String(1000 + i)]);
        tail.push(`rd_${i}`, String(1000 + i));
        expect(tail.encode()).toBe(reference(pairs, capacity));
        expect(tail.size).toBe(Math.min(i + 1, capacity));
        expect(ReadingTail.decode(tail.encode(), capacity).encode()).toBe(tail.encode());
      }
      // markIn walks oldest to newest: the oldest kept pair is marked, the one before it is not.
      const recent = new RecentReadings();
      tail.markIn(recent);
      expect(recent.size).toBe(capacity);
      expect(recent.isDuplicate(`rd_${25 - capacity}`, "x")).toBe(true);
      expect(recent.isDuplicate(`rd_${24 - capacity}`, "x")).toBe(false);
    }
    const none = new ReadingTail(0);
    none.push("a", "1");
    expect([none.size, none.encode()]).toEqual([0, ""]);
  });

  it("ReadingTail says when its text would not give it back (a separator or an empty field)", () => {
    const tail = new ReadingTail();
    tail.push("rd_a", "1");
    expect(tail.encodesExactly).toBe(true);
    for (const [id, seq] of [
      ["rd b", "2"],
      ["rd_c", "3;4"],
      ["", "5"],
      ["rd_d", ""],
    ]) {
      const t = new ReadingTail();
      t.push(id, seq);
      expect(t.encodesExactly).toBe(false);
    }
  });
});
