/**
 * In-memory implementations of the scoring ports, for tests. They are stand-ins for DynamoDB/S3/Step Functions/
 * Firehose — never the thing under test. (`Detector` doubles are only used where the RCF itself is not the point.)
 */
import type { Alert } from "../../src/alerts/alert.ts";
import type { CheckpointStore } from "../../src/ports/checkpoint-store.ts";
import type { DeviceRegistry } from "../../src/ports/device-registry.ts";
import type { EscalationStarter } from "../../src/ports/escalation-starter.ts";
import type { MetricsStore } from "../../src/ports/metrics-store.ts";
import type { ScoreArchive } from "../../src/ports/score-archive.ts";
import type { ThresholdsStore } from "../../src/ports/thresholds-store.ts";
import { createDeidentifier, defaultPhiCatalogue } from "../../src/privacy/deidentifier.ts";
import type { DetectorFactory, ScoringDetector } from "../../src/scoring/detector-pool.ts";
import type { ScoredRecord } from "../../src/scoring/scored-record.ts";
import type { StreamRecord } from "../../src/scoring/window-scorer.ts";
import type { Device } from "../../src/telemetry/device.ts";
import { encodeEnvelope } from "../../src/telemetry/envelope.ts";
import { createReadingPreparer } from "../../src/telemetry/prepare.ts";
import type { ThresholdRule } from "../../src/thresholds/threshold-rule.ts";
import type { AggregatePart } from "../../src/window/stored-part.ts";

export class MemoryMetricsStore implements MetricsStore {
  readonly items = new Map<string, AggregatePart>();
  writes = 0;
  failNext = 0;
  async putParts(parts: readonly AggregatePart[]) {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw Object.assign(new Error("throttled"), { name: "ProvisionedThroughputExceededException" });
    }
    for (const p of parts) {
      this.items.set(
        `${p.deviceId}|${p.windowStartMs}|${p.metric}|${p.shardId}|${p.segment}`,
        structuredClone(p),
      );
      this.writes += 1;
    }
  }
  async listParts(deviceId: string) {
    return [...this.items.values()].filter((p) => p.deviceId === deviceId);
  }
  all() {
    return [...this.items.values()];
  }
}

export class MemoryCheckpointStore implements CheckpointStore {
  readonly objects = new Map<string, Uint8Array>();
  async get(key: string) {
    return this.objects.get(key);
  }
  async put(key: string, bytes: Uint8Array) {
    this.objects.set(key, new Uint8Array(bytes));
  }
}

/** Behaves like Step Functions with names: the second start of a name is `{ started: false }`. */
export class RecordingEscalationStarter implements EscalationStarter {
  readonly executions = new Map<string, Alert>();
  calls = 0;
  failNext = 0;
  async start(alert: Alert, executionName: string) {
    this.calls += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
    }
    if (this.executions.has(executionName)) return { started: false };
    this.executions.set(executionName, alert);
    return { started: true };
  }
}

export class MemoryArchive implements ScoreArchive {
  readonly records: ScoredRecord[] = [];
  async putMany(records: readonly ScoredRecord[]) {
    this.records.push(...records);
  }
}

export class MemoryThresholds implements ThresholdsStore {
  constructor(public rules: ThresholdRule[] = []) {}
  async getMany(scopes: readonly string[]) {
    return this.rules.filter((r) => scopes.includes(r.scope));
  }
}

/** Every scoring port as an in-memory stand-in (thresholds from `rules`). */
export function memoryScoringPorts(rules: ThresholdRule[] = [], checkpoints = new MemoryCheckpointStore()) {
  return {
    metrics: new MemoryMetricsStore(),
    checkpoints,
    escalation: new RecordingEscalationStarter(),
    archive: new MemoryArchive(),
    thresholds: new MemoryThresholds(rules),
  };
}

export class MemoryRegistry implements DeviceRegistry {
  readonly devices: Map<string, Device>;
  constructor(devices: Device[]) {
    this.devices = new Map(devices.map((d) => [d.deviceId, d]));
  }
  async get(id: string) {
    return this.devices.get(id);
  }
}

export function testPreparer(devices: Device[]) {
  return createReadingPreparer({
    registry: new MemoryRegistry(devices),
    deidentifier: createDeidentifier({
      catalogue: defaultPhiCatalogue,
      tokenKey: new Uint8Array(32).fill(7),
    }),
    registryCache: false,
  });
}

/**
 * A deterministic stand-in detector (running mean/stddev per dimension; score = max |z|, anomaly when > 6 after 20
 * points), for tests of the orchestration that don't need the forest itself.
 */
export class ZScoreTestDetector implements ScoringDetector {
  n = 0;
  mean: number[];
  m2: number[];
  constructor(readonly dimensions: number) {
    this.mean = new Array(dimensions).fill(0);
    this.m2 = new Array(dimensions).fill(0);
  }
  process(point: ArrayLike<number>) {
    let best = 0;
    let bestIndex = 0;
    for (let i = 0; i < this.dimensions; i++) {
      const sd = this.n > 1 ? Math.sqrt(this.m2[i] / (this.n - 1)) : 0;
      const z = sd > 0 ? Math.abs(point[i] - this.mean[i]) / sd : 0;
      if (z > best) [best, bestIndex] = [z, i];
    }
    const score = this.n >= 20 ? best : 0;
    const direction: "HIGH" | "LOW" = point[bestIndex] >= this.mean[bestIndex] ? "HIGH" : "LOW";
    this.n += 1;
    for (let i = 0; i < this.dimensions; i++) {
      const d = point[i] - this.mean[i];
      this.mean[i] += d / this.n;
      this.m2[i] += d * (point[i] - this.mean[i]);
    }
    return {
      score,
      grade: Math.min(1, score / 10),
      anomaly: score > 6,
      attribution: [{ index: bestIndex, contribution: score, direction }],
    };
  }
  toCheckpoint() {
    return Buffer.from(JSON.stringify({ d: this.dimensions, n: this.n, mean: this.mean, m2: this.m2 }));
  }
  static restore(bytes: Uint8Array) {
    const s = JSON.parse(Buffer.from(bytes).toString()) as {
      d: number;
      n: number;
      mean: number[];
      m2: number[];
    };
    return Object.assign(new ZScoreTestDetector(s.d), { n: s.n, mean: s.mean, m2: s.m2 });
  }
}

export const zScoreFactory: DetectorFactory = {
  create: (d) => new ZScoreTestDetector(d),
  restore: (b) => ZScoreTestDetector.restore(b),
};

/** Builds Kinesis records (the IoT rule's envelope as data) with ascending sequence numbers. */
export class RecordMaker {
  private seq = 49590338271490256608559692538361571095921575989136588898n;
  make(topic: string, payload: unknown, arrivalMs: number): StreamRecord {
    this.seq += 1n;
    const envelope = encodeEnvelope(
      topic,
      typeof payload === "string" ? payload : JSON.stringify(payload),
      arrivalMs - 5,
    );
    return {
      sequenceNumber: this.seq.toString(),
      partitionKey: topic.split("/")[3] ?? "x",
      arrivalMs,
      data: Buffer.from(JSON.stringify(envelope)).toString("base64"),
    };
  }
}

export function weatherRecord(
  maker: RecordMaker,
  station: string,
  sensor: string,
  value: number,
  eventMs: number,
  arrivalMs = eventMs + 100,
) {
  return maker.make(
    `weather/wa/seattle/${station}/${sensor}/sensor-${sensor}-1`,
    { value, smoothed: value, direction: 0, timestamp: eventMs },
    arrivalMs,
  );
}
