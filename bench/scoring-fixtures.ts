/**
 * The scoring benchmarks' input (bench/scoring.ts, bench/scoring-profile.ts): devices of N models, the points they
 * send (5 metrics, the medical seed's shape), their Kinesis records holding the IoT envelope of a canonical payload,
 * and the Kinesis tumbling-window event of the scoring Lambda.
 */
import type { Context } from "aws-lambda";
import { encodeEnvelope } from "../packages/core/src/telemetry/envelope.ts";
import type { Device } from "../packages/core/src/telemetry/device.ts";
import type { ScoreEvent } from "../packages/functions/src/kinesis/score.ts";

export const METRICS = ["temperature", "pulse", "oxygen_percent", "systolic", "diastolic"];
export const DEVICES_PER_MODEL = 4;

export type BenchDevice = Pick<Device, "deviceId" | "manufacturer" | "model">;

/** `DEVICES_PER_MODEL` devices for each of `models` models (10 manufacturers). */
export const makeDevices = (models: number): BenchDevice[] =>
  Array.from({ length: models * DEVICES_PER_MODEL }, (_, i) => ({
    deviceId: `dev-${i}`,
    manufacturer: `mfr-${Math.floor(i / DEVICES_PER_MODEL) % 10}`,
    model: `model-${Math.floor(i / DEVICES_PER_MODEL)}`,
  }));

/** The i-th point: a slow sine per metric plus deterministic noise. */
export function pointFor(i: number): number[] {
  return METRICS.map((_, k) => 50 + 10 * Math.sin(i / 40 + k) + ((i * 7919 + k * 104729) % 1000) / 250);
}

export interface BenchRecord {
  device: BenchDevice;
  point: number[];
  /** base64 of the IoT envelope, as the Kinesis record carries it. */
  data: string;
  seq: string;
  arrivalMs: number;
}

/** Records `from .. from + n` round-robin over `devices`, with the canonical payload of 5 metrics. */
export function makeRecords(
  devices: readonly BenchDevice[],
  from: number,
  n: number,
  t0: number,
): BenchRecord[] {
  const records: BenchRecord[] = [];
  for (let i = from; i < from + n; i++) {
    const device = devices[i % devices.length];
    const point = pointFor(i);
    const payload = JSON.stringify({
      deviceId: device.deviceId,
      ts: t0 + i,
      metrics: Object.fromEntries(METRICS.map((m, k) => [m, point[k]])),
    });
    const envelope = encodeEnvelope(`dt/site/${device.deviceId}/telemetry`, payload, t0 + i);
    records.push({
      device,
      point,
      data: Buffer.from(JSON.stringify(envelope)).toString("base64"),
      seq: String(10n ** 40n + BigInt(i)),
      arrivalMs: t0 + i,
    });
  }
  return records;
}

export const benchContext = {
  functionName: "bench",
  awsRequestId: "bench",
  getRemainingTimeInMillis: () => 300_000,
} as unknown as Context;

/** The scoring Lambda's event for `records` in the one-hour window starting at `windowStart`. */
export function scoreEvent(
  records: readonly BenchRecord[],
  windowStart: number,
  state: Record<string, unknown>,
  final = false,
): ScoreEvent {
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: r.device.deviceId,
        sequenceNumber: r.seq,
        data: r.data,
        approximateArrivalTimestamp: r.arrivalMs / 1000,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `shardId-000000000000:${r.seq}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::000000000000:role/bench",
      awsRegion: "us-east-1",
      eventSourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/bench",
    })),
    window: {
      start: new Date(windowStart).toISOString(),
      end: new Date(windowStart + 3_600_000).toISOString(),
    },
    state,
    shardId: "shardId-000000000000",
    isFinalInvokeForWindow: final,
    isWindowTerminatedEarly: false,
  };
}

/**
 * The archive port as the Lambda's Firehose adapter is to the handler: it takes each batch and keeps nothing but
 * the detector keys seen. (`MemoryArchive` kept every scored record of the run — 40,000 with 50 keys, 210,000 with
 * 500 — which the production handler never holds and the old-generation GC marked on every cycle of the timed part.)
 */
export class CountingArchive {
  records = 0;
  readonly detectorKeys = new Set<string>();
  async putMany(records: readonly { detectorKey: string }[]) {
    this.records += records.length;
    for (const r of records) this.detectorKeys.add(r.detectorKey);
  }
}

/**
 * The aggregates port, taking each flush and keeping nothing (`MemoryMetricsStore` deep-copies every part into a map
 * kept for the whole run: with 500 keys the window state cannot hold 10,000 series, every batch flushes, and that
 * test double's copying and retention were 8 % of the 500-key profile's samples — store work, which this bench does
 * not measure).
 */
export class CountingMetricsStore {
  parts = 0;
  async putParts(parts: readonly unknown[]) {
    this.parts += parts.length;
  }
  async listParts() {
    return [];
  }
}
