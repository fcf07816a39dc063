import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isMainThread, threadId } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  LOCAL_HEAP_GROWING_PERCENT,
  lambdaHeapLimits,
  limitHeapGrowth,
} from "../../src/runtime/lambda-heap.ts";
import { startMemoryProbe } from "../../src/runtime/memory-probe.ts";

describe("lambdaHeapLimits (issue 13)", () => {
  it("gives a worker the old generation Lambda's Node.js runtime gives the function: memory minus a tenth", () => {
    expect(lambdaHeapLimits(1769, {})).toEqual({ maxOldGenerationSizeMb: 1593 });
    expect(lambdaHeapLimits(1024, {})).toEqual({ maxOldGenerationSizeMb: 922 });
  });

  it("DRIFTWATCH_LAMBDA_HEAP=host leaves the host's defaults", () => {
    expect(lambdaHeapLimits(1769, { DRIFTWATCH_LAMBDA_HEAP: "host" })).toBeUndefined();
  });
});

describe("startMemoryProbe (issue 13 diagnostic)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("appends this thread's heap as JSON lines to DRIFTWATCH_MEMORY_PROBE", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-probe-"));
    dirs.push(dir);
    const file = path.join(dir, "probe.ndjson");
    vi.stubEnv("DRIFTWATCH_MEMORY_PROBE", file);
    vi.stubEnv("DRIFTWATCH_MEMORY_PROBE_MS", "20");
    const stop = startMemoryProbe("test");
    try {
      await vi.waitFor(
        () =>
          expect(fs.existsSync(file) && fs.readFileSync(file, "utf8").split("\n").length).toBeGreaterThan(2),
        {
          timeout: 5_000,
        },
      );
    } finally {
      stop();
    }
    const line = JSON.parse(fs.readFileSync(file, "utf8").split("\n")[0]) as Record<string, unknown>;
    expect(line.thread).toBe(`test#${threadId}`);
    expect(line.heapUsedMiB).toBeGreaterThan(0);
    expect(line.heapTotalMiB as number).toBeGreaterThanOrEqual(line.heapUsedMiB as number);
    // Only the main thread reports the process's RSS (vitest may run this file in a worker thread).
    expect(line.rssMiB === undefined).toBe(!isMainThread);
  });

  it("does nothing when DRIFTWATCH_MEMORY_PROBE is unset: no timer, nothing written", () => {
    vi.stubEnv("DRIFTWATCH_MEMORY_PROBE", "");
    const timers = vi.spyOn(globalThis, "setInterval");
    const writes = vi.spyOn(fs, "appendFileSync");
    try {
      const stop = startMemoryProbe("test");
      stop(); // a no-op stop
      expect(timers).not.toHaveBeenCalled();
      expect(writes).not.toHaveBeenCalled();
    } finally {
      timers.mockRestore();
      writes.mockRestore();
    }
  });
});

describe("limitHeapGrowth (issue 13)", () => {
  it("sets V8's heap growing percent, 80 unless DRIFTWATCH_HEAP_GROWING_PERCENT says otherwise", () => {
    const flags: string[] = [];
    const set = (f: string) => flags.push(f);
    expect(limitHeapGrowth({}, set)).toBe(LOCAL_HEAP_GROWING_PERCENT);
    expect(limitHeapGrowth({ DRIFTWATCH_HEAP_GROWING_PERCENT: "50" }, set)).toBe(50);
    expect(limitHeapGrowth({ DRIFTWATCH_HEAP_GROWING_PERCENT: "0" }, set)).toBe(0); // V8's own factor
    expect(flags).toEqual(["--heap-growing-percent=80", "--heap-growing-percent=50"]);
    expect(() => limitHeapGrowth({ DRIFTWATCH_HEAP_GROWING_PERCENT: "lots" }, set)).toThrow(RangeError);
  });
});
