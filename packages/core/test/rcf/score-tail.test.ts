import { describe, expect, it } from "vitest";
import { ScoreTail } from "../../src/rcf/score-tail.ts";
import { lcg } from "./helpers.ts";

/** The fit as it was written before issue 14 (a `%` per value), to pin that the two-run loops give the same bits. */
function referenceFit(
  window: Float64Array | Float32Array,
  head: number,
  count: number,
  quantile: number,
  lightest: number,
) {
  const n = count;
  if (n < 20) return { threshold: Infinity };
  const w = window.length;
  const oldest = (head - n + w) % w;
  const scratch = Array.from({ length: n }, (_, i) => window[(oldest + i) % w]);
  const t = [...scratch].sort((a, b) => a - b)[Math.floor(quantile * (n - 1))];
  let c = 0;
  let sum = 0;
  let max = t;
  for (let i = 0; i < n; i++) {
    const v = window[(oldest + i) % w];
    if (v > t) {
      c++;
      sum += v - t;
      if (v > max) max = v;
    }
  }
  const fraction = c / n;
  if (c < 5) return { threshold: t, fraction, shape: 0, scale: Math.max(1e-9, max - t || 1e-3) };
  const m = sum / c;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const v = window[(oldest + i) % w];
    if (v > t) squares += (v - t - m) * (v - t - m);
  }
  const variance = squares / c;
  if (!(variance > 0)) return { threshold: t, fraction, shape: 0, scale: Math.max(m, 1e-9) };
  const r = (m * m) / variance;
  const shape = 0.5 * (1 - r);
  if (shape < lightest) return { threshold: t, fraction, shape: 0, scale: Math.max(m, 1e-9) };
  return { threshold: t, fraction, shape, scale: 0.5 * m * (r + 1) };
}

describe("score tail fit", () => {
  it("fits a ring the same whether it has wrapped or not (oldest first, bit for bit)", () => {
    const random = lcg(14);
    for (const make of [(n: number) => new Float64Array(n), (n: number) => new Float32Array(n)]) {
      for (const pushes of [10, 25, 199, 200, 201, 357, 1000]) {
        const tail = new ScoreTail(make(200));
        for (let i = 0; i < pushes; i++) tail.push(random() < 0.05 ? 3 + 5 * random() : random());
        for (const lightest of [-Infinity, 0]) {
          tail.fit(0.9, new Float64Array(200), lightest);
          const expected = referenceFit(tail.window, tail.head, tail.count, 0.9, lightest);
          expect(tail.threshold).toBe(expected.threshold);
          if (expected.fraction === undefined) continue;
          expect([tail.fraction, tail.shape, tail.scale]).toEqual([
            expected.fraction,
            expected.shape,
            expected.scale,
          ]);
        }
      }
    }
  });
});
