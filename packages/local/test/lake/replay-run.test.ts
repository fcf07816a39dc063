import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { Reading } from "@driftwatch/core/telemetry/reading";
import { ReplayTooLargeError, runReplay } from "../../src/lake/replay-run.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-replay-run-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MIN = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);

function reading(deviceId: string, i: number): Reading {
  const ms = T0 + i * MIN;
  return {
    deviceId,
    ts: new Date(ms).toISOString(),
    receivedAt: new Date(ms + 1_500).toISOString(),
    topic: `dt/site-a/${deviceId}/telemetry`,
    source: "canonical",
    site: "site-a",
    manufacturer: "acme",
    model: "p100",
    metrics: { pressure: 3 + (i % 5) * 0.1 },
    tags: {},
  };
}

describe("runReplay's size bound (one Lambda's worth, ADR 0902)", () => {
  const lakeDir = path.join(dir, "lake");
  const readings = [...Array.from({ length: 20 }, (_, i) => reading("d1", i))];
  readings.push(...Array.from({ length: 20 }, (_, i) => reading("d2", i)));
  const key = "readings/date=2024-05-01/hour=10/ingest-1.gz";
  fs.mkdirSync(path.dirname(path.join(lakeDir, key)), { recursive: true });
  fs.writeFileSync(
    path.join(lakeDir, key),
    zlib.gzipSync(readings.map((r) => JSON.stringify(r)).join("\n") + "\n"),
  );
  const range = { lakeDir, fromMs: T0, toMs: T0 + 60 * MIN, windowMs: MIN };

  it("refuses a range holding more readings than the bound, saying how to narrow it, and writes nothing", async () => {
    const refused = runReplay({ ...range, label: "too-big", maxReadings: 30 });
    await expect(refused).rejects.toBeInstanceOf(ReplayTooLargeError);
    await expect(refused).rejects.toThrow(
      /more than the 30 readings one replay may read.*narrow --from\/--to or --devices/,
    );
    expect(fs.existsSync(path.join(lakeDir, "replays", "too-big"))).toBe(false);
  });

  it("replays the same range narrowed to one device, within the bound", async () => {
    const manifest = await runReplay({ ...range, label: "one-device", maxReadings: 30, deviceIds: ["d1"] });
    expect(manifest.readings).toBe(20);
    expect(fs.existsSync(path.join(lakeDir, "replays", "one-device", "manifest.json"))).toBe(true);
  });
});
