import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { z } from "zod";
import type { Alert } from "@driftwatch/core/alerts/alert";
import { replayReadings } from "@driftwatch/core/backtest/replay";
import { compareReplays, type ReplayDifference } from "@driftwatch/core/backtest/replay-compare";
import type { Reading } from "@driftwatch/core/telemetry/reading";
import { rcfDetectorFactory, type RcfDetectorOptions } from "@driftwatch/core/scoring/rcf-detector-factory";
import { RangeTooLargeError } from "@driftwatch/core/ports/lake-reader";
import { DriftwatchError, ValidationError } from "@driftwatch/core/shared/errors";
import { thresholdRuleSchema, type ThresholdRule } from "@driftwatch/core/thresholds/threshold-rule";
import { resolveThresholds } from "@driftwatch/core/thresholds/resolve";
import { mergeParts, type AggregatePart } from "@driftwatch/core/window/stored-part";
import { DuckDbLakeReader } from "./duckdb-lake-reader.ts";

/** A replay label: a directory name under `lake/replays/`. */
export const replayLabelSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "label must be 1-64 letters, digits, '.', '_' or '-'");

const detectorOptionsSchema = z
  .object({
    forest: z
      .object({
        preset: z.enum(["kda", "library"]).optional(),
        numberOfTrees: z.number().int().min(1).max(1000).optional(),
        sampleSize: z.number().int().min(2).max(32768).optional(),
        timeDecay: z.number().positive().optional(),
        outputAfter: z.number().int().nonnegative().optional(),
        seed: z.number().int().optional(),
      })
      .strict()
      .optional(),
    thresholder: z.record(z.number()).optional(),
    /** Per-series normalisation before the shared forest (ADR 0306): off, on, or its options. */
    normalize: z.union([z.boolean(), z.record(z.number())]).optional(),
  })
  .strict();

/** `--detector`: a forest preset name (`kda`, `library`) or the JSON of the detector options. */
export function parseDetector(spec: string | undefined): { options: RcfDetectorOptions; text: string } {
  if (spec === undefined || spec === "") return { options: {}, text: "default (kda)" };
  if (spec === "kda" || spec === "library") return { options: { forest: { preset: spec } }, text: spec };
  let value: unknown;
  try {
    value = JSON.parse(spec);
  } catch {
    throw new ValidationError(`--detector must be a preset (kda, library) or the JSON of detector options`);
  }
  const parsed = detectorOptionsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`--detector: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return { options: parsed.data as RcfDetectorOptions, text: JSON.stringify(parsed.data) };
}

export interface ReplayRunOptions {
  lakeDir: string;
  label: string;
  fromMs: number;
  toMs: number;
  deviceIds?: string[];
  detector?: string;
  /** Threshold rules to apply (e.g. exported with `GET /api/thresholds`); none: detector, stuck and silence only. */
  rules?: ThresholdRule[];
  windowMs: number;
  silenceWindows?: number;
  onProgress?: (done: number, total: number) => void;
  /** Most readings one replay may read (default `REPLAY_MAX_READINGS`); more → `ReplayTooLargeError`. */
  maxReadings?: number;
}

/**
 * Most readings one replay reads: what one Lambda replays within its 15 minutes with room to spare (ADR 0902,
 * measured by `bench/backtest.ts`). The CLI keeps to the same bound locally, so a replay that runs here is one that
 * runs on AWS; `DRIFTWATCH_REPLAY_MAX_READINGS` raises it for a local-only replay.
 */
export const REPLAY_MAX_READINGS = 1_000_000;

/** The range holds more readings than one replay may read: narrow the range or the devices. */
export class ReplayTooLargeError extends DriftwatchError {}

export interface ReplayManifest {
  label: string;
  from: string;
  to: string;
  devices: string[] | "all";
  detector: string;
  /** Tumbling window of the replay, seconds (alerts are compared by window: compare replays of one window length). */
  windowSeconds: number;
  readings: number;
  duplicates: number;
  alerts: number;
  createdAt: string;
}

export const replayDir = (lakeDir: string, label: string) =>
  path.join(lakeDir, "replays", replayLabelSchema.parse(label));

function writeNdjsonGz(file: string, rows: readonly unknown[]): void {
  fs.writeFileSync(
    file,
    zlib.gzipSync(rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "")),
  );
}

function readNdjsonGz<T>(file: string): T[] {
  return zlib
    .gunzipSync(fs.readFileSync(file))
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as T);
}

/**
 * `driftwatch replay`: reads a range of `lake/readings/` (DuckDB, the lake query) and reprocesses it through the
 * scoring path (`replayReadings`: core's `WindowScorer` with in-memory ports) into `lake/replays/<label>/`
 * (`scores.ndjson.gz`, `aggregates.ndjson.gz`, `alerts.ndjson.gz`, `manifest.json`). It reads the lake and writes
 * only under its label: live models, metrics and incidents are never opened.
 */
export async function runReplay(options: ReplayRunOptions): Promise<ReplayManifest> {
  const dir = replayDir(options.lakeDir, options.label);
  const detector = parseDetector(options.detector);
  const maxReadings = options.maxReadings ?? REPLAY_MAX_READINGS;
  const reader = new DuckDbLakeReader(options.lakeDir, { maxReadings });
  const readings: Reading[] = [];
  try {
    for await (const page of reader.readReadings({
      fromMs: options.fromMs,
      toMs: options.toMs,
      deviceIds: options.deviceIds,
    })) {
      readings.push(...page);
    }
  } catch (error) {
    if (!(error instanceof RangeTooLargeError)) throw error;
    throw new ReplayTooLargeError(
      `the range holds more than the ${maxReadings.toLocaleString("en-US")} readings one replay may read (one ` +
        `Lambda's worth, ADR 0902; DRIFTWATCH_REPLAY_MAX_READINGS raises it locally): narrow --from/--to or ` +
        `--devices, or split the range into several labels`,
      { cause: error, code: "REPLAY_TOO_LARGE" },
    );
  } finally {
    reader.close();
  }
  const rules = options.rules ?? [];
  const parts: AggregatePart[] = [];
  const scored: unknown[] = [];
  const result = await replayReadings(readings, {
    windowMs: options.windowMs,
    silenceWindows: options.silenceWindows,
    detectors: rcfDetectorFactory(detector.options),
    thresholds: { resolve: async (device) => resolveThresholds(device, rules) },
    onScored: (records) => void scored.push(...records),
    onParts: (p) => void parts.push(...p),
    onProgress: options.onProgress,
  });
  const alerts = result.alerts.filter((a) => Date.parse(a.ts) < options.toMs);
  fs.mkdirSync(dir, { recursive: true });
  writeNdjsonGz(path.join(dir, "scores.ndjson.gz"), scored);
  writeNdjsonGz(path.join(dir, "aggregates.ndjson.gz"), mergeParts(parts));
  writeNdjsonGz(path.join(dir, "alerts.ndjson.gz"), alerts);
  const manifest: ReplayManifest = {
    label: options.label,
    from: new Date(options.fromMs).toISOString(),
    to: new Date(options.toMs).toISOString(),
    devices: options.deviceIds?.length ? options.deviceIds : "all",
    detector: detector.text,
    windowSeconds: options.windowMs / 1000,
    readings: result.readings,
    duplicates: result.duplicates,
    alerts: alerts.length,
    createdAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/** Reads a threshold rules file (`[{scope, ...rule}]`, as `GET /api/thresholds` lists them, in stored-scope form). */
export function readRulesFile(file: string): ThresholdRule[] {
  const value = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  return z.array(thresholdRuleSchema).parse(value);
}

export function loadReplay(lakeDir: string, label: string): { manifest: ReplayManifest; alerts: Alert[] } {
  const dir = replayDir(lakeDir, label);
  if (!fs.existsSync(path.join(dir, "manifest.json"))) {
    throw new ValidationError(`no replay labelled "${label}" under ${path.join(lakeDir, "replays")}`);
  }
  return {
    manifest: JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as ReplayManifest,
    alerts: readNdjsonGz<Alert>(path.join(dir, "alerts.ndjson.gz")),
  };
}

export function compareLabels(lakeDir: string, a: string, b: string) {
  const left = loadReplay(lakeDir, a);
  const right = loadReplay(lakeDir, b);
  return { a: left.manifest, b: right.manifest, differences: compareReplays(left.alerts, right.alerts) };
}

/** A window start, compact: `12-02 13:22:50`. */
const windowText = (iso: string) => iso.slice(5, 19).replace("T", " ");

export function formatComparison(result: {
  a: ReplayManifest;
  b: ReplayManifest;
  differences: ReplayDifference[];
}): string {
  const lines = [
    `A ${result.a.label}: detector ${result.a.detector}, ${result.a.readings} readings, ${result.a.alerts} alerts`,
    `B ${result.b.label}: detector ${result.b.detector}, ${result.b.readings} readings, ${result.b.alerts} alerts`,
  ];
  if (result.a.from !== result.b.from || result.a.to !== result.b.to) {
    lines.push(
      `note: the ranges differ (${result.a.from}..${result.a.to} vs ${result.b.from}..${result.b.to})`,
    );
  }
  if (result.a.windowSeconds !== result.b.windowSeconds) {
    lines.push(
      `note: the window lengths differ (${result.a.windowSeconds ?? "?"} s vs ${result.b.windowSeconds ?? "?"} s, ` +
        "DRIFTWATCH_WINDOW_SECONDS): alerts fall in different windows",
    );
  }
  if (result.differences.length === 0) {
    lines.push("no differences: both raised the same alerts in the same windows");
    return lines.join("\n") + "\n";
  }
  const header = ["device", "rule", "A", "B", "only A (windows)", "only B (windows)"];
  const rows = result.differences.map((d) => [
    d.deviceId,
    d.rule,
    String(d.a),
    String(d.b),
    d.onlyA.map(windowText).join(" ") || "-",
    d.onlyB.map(windowText).join(" ") || "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  lines.push(line(header), ...rows.map(line));
  return lines.join("\n") + "\n";
}
