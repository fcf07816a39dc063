import { describe, expect, it } from "vitest";
import { RecencyList, type RecencyLinked } from "../../src/shared/recency-list.ts";

interface Entry extends RecencyLinked<Entry> {
  name: string;
}
const entry = (name: string): Entry => ({ name, older: undefined, newer: undefined });
const order = (list: RecencyList<Entry>) => {
  const names: string[] = [];
  for (let e = list.oldest; e; e = e.newer) names.push(e.name);
  const back: string[] = [];
  for (let e = list.newest; e; e = e.older) back.push(e.name);
  expect(back.reverse()).toEqual(names); // both directions agree
  return names;
};

describe("RecencyList", () => {
  it("keeps entries from least to most recently touched, both ways", () => {
    const list = new RecencyList<Entry>();
    const [a, b, c] = ["a", "b", "c"].map(entry);
    expect(order(list)).toEqual([]);
    list.append(a);
    list.append(b);
    list.append(c);
    expect(order(list)).toEqual(["a", "b", "c"]);
    list.touch(a);
    expect(order(list)).toEqual(["b", "c", "a"]);
    list.touch(a); // already the newest
    expect(order(list)).toEqual(["b", "c", "a"]);
    list.touch(c);
    expect(order(list)).toEqual(["b", "a", "c"]);
  });

  it("unlinks the oldest, a middle and the newest entry, down to empty", () => {
    const list = new RecencyList<Entry>();
    const [a, b, c, d] = ["a", "b", "c", "d"].map(entry);
    for (const e of [a, b, c, d]) list.append(e);
    list.unlink(a);
    expect(order(list)).toEqual(["b", "c", "d"]);
    list.unlink(c);
    expect(order(list)).toEqual(["b", "d"]);
    list.unlink(d);
    expect(order(list)).toEqual(["b"]);
    expect(c.older).toBeUndefined();
    expect(c.newer).toBeUndefined();
    list.unlink(b);
    expect(order(list)).toEqual([]);
    expect(list.oldest).toBeUndefined();
    expect(list.newest).toBeUndefined();
  });
});
