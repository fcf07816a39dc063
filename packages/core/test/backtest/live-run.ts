import { DetectorPool, type DetectorFactory } from "../../src/scoring/detector-pool.ts";
import { WindowScorer, type StreamRecord } from "../../src/scoring/window-scorer.ts";
import type { Envelope } from "../../src/telemetry/envelope.ts";
import { CachedThresholds } from "../../src/thresholds/cached-thresholds.ts";
import type { ThresholdRule } from "../../src/thresholds/threshold-rule.ts";
import { memoryScoringPorts, testPreparer } from "../scoring/support.ts";
import { device, MIN, T0 } from "./fixtures.ts";

/**
 * The live scoring path over `envelopes`: Kinesis batches of 7 records, windows by arrival, state carried between
 * invokes, a final invoke per window (the scoring Lambda's `WindowScorer` with in-memory ports).
 */
export async function scoreLive(
  envelopes: readonly Envelope[],
  rules: ThresholdRule[],
  detectors: DetectorFactory,
) {
  const ports = memoryScoringPorts(rules);
  let now = T0;
  const clock = { now: () => now };
  const scorer = new WindowScorer({
    preparer: testPreparer([device]),
    detectors: new DetectorPool(detectors, ports.checkpoints, clock),
    thresholds: new CachedThresholds(ports.thresholds, clock),
    escalation: ports.escalation,
    metrics: ports.metrics,
    archive: ports.archive,
    checkpoints: ports.checkpoints,
    clock,
    options: { windowMs: MIN },
  });
  const byWindow = new Map<number, StreamRecord[]>();
  envelopes.forEach((e, i) => {
    const start = Math.floor(e.receivedAt / MIN) * MIN;
    const list = byWindow.get(start) ?? [];
    list.push({
      sequenceNumber: String(i).padStart(8, "0"),
      partitionKey: device.deviceId,
      arrivalMs: e.receivedAt,
      data: Buffer.from(JSON.stringify(e)).toString("base64"),
    });
    byWindow.set(start, list);
  });
  for (const [start, records] of [...byWindow].sort((a, b) => a[0] - b[0])) {
    let state: Record<string, unknown> | undefined;
    for (let i = 0; i < records.length; i += 7) {
      now = start + MIN;
      const result = await scorer.processBatch({
        shardId: "shardId-000000000000",
        window: { startMs: start, endMs: start + MIN },
        state,
        isFinalInvokeForWindow: i + 7 >= records.length,
        isWindowTerminatedEarly: false,
        records: records.slice(i, i + 7),
      });
      state = result.state;
    }
  }
  const byRule: Record<string, number> = {};
  for (const a of ports.escalation.executions.values()) byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
  return { byRule, alerts: [...ports.escalation.executions.values()], archive: ports.archive.records };
}
