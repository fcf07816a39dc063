import { encodeEnvelope, type Envelope } from "../../src/telemetry/envelope.ts";
import type { Reading } from "../../src/telemetry/reading.ts";
import { testPreparer } from "../scoring/support.ts";

export const MIN = 60_000;
export const T0 = Date.UTC(2024, 4, 1, 0, 0, 0);
export const device = { deviceId: "press-1", manufacturer: "acme", model: "p100", site: "plant-a" };

/** Deterministic PRNG (mulberry32) for fixed-seed series. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A pressure series, one reading a minute, noise around 3 (never above 4), with spikes of 9 at `spikes`. */
export function pressureSeries(
  count: number,
  spikes: ReadonlySet<number>,
  seed = 7,
): { ts: number; value: number }[] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => ({
    ts: T0 + i * MIN + 5_000,
    value: spikes.has(i) ? 9 : Math.round((3 + (rand() - 0.5) * 1.5) * 1000) / 1000,
  }));
}

/** The envelopes devices publish (canonical topic), arriving 2 s after their event time. */
export function envelopesOf(series: readonly { ts: number; value: number }[]): Envelope[] {
  return series.map((p, i) =>
    encodeEnvelope(
      `dt/${device.site}/${device.deviceId}/telemetry`,
      JSON.stringify({
        deviceId: device.deviceId,
        ts: new Date(p.ts).toISOString(),
        metrics: { pressure: p.value },
      }),
      p.ts + 2_000,
      `m-${i}`,
    ),
  );
}

/** What the ingest transform writes to `lake/readings/` for those envelopes (the same core preparer). */
export async function lakeReadingsOf(envelopes: readonly Envelope[]): Promise<Reading[]> {
  const preparer = testPreparer([device]);
  const out: Reading[] = [];
  for (const e of envelopes) out.push((await preparer.prepare(e, { vault: false })).reading);
  return out;
}
