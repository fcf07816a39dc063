import { z } from "zod";
import { scoredRecordSchema } from "../scoring/scored-record.ts";
import type { RecordDetection } from "../scoring/record-detection.ts";
import type { Reading } from "../telemetry/reading.ts";

/**
 * What the scores archive holds of one live-scored reading that a backtest needs to apply another rule set to the
 * live detector's verdict (ADR 0903): the reading's identity, the forest's score, grade and attribution, and the
 * detector's own verdict (`detection`, archived since issue 10's third session; older records lack it and are not
 * verdicts).
 */
export const archivedVerdictSchema = scoredRecordSchema
  .pick({
    deviceId: true,
    ts: true,
    receivedAt: true,
    metrics: true,
    score: true,
    grade: true,
    attribution: true,
  })
  .extend({ detection: scoredRecordSchema.shape.detection.unwrap() })
  .strict();
export type ArchivedVerdict = z.infer<typeof archivedVerdictSchema>;

/**
 * The live verdicts of a device's readings, found by the reading's identity across `readings/` and `scores/`: device,
 * event time, arrival and values (the live scorer prepared the same envelope as the ingest transform, so both hold
 * the same fields). Duplicates (the archive is at least once: a retried batch archives its records again, scored a
 * second time) keep the first one read.
 */
export class VerdictIndex {
  /** By device, event time and arrival; values compared on lookup (usually one candidate). */
  private readonly byTime = new Map<string, ArchivedVerdict[]>();

  constructor(verdicts: Iterable<ArchivedVerdict>) {
    for (const v of verdicts) {
      const key = timeKeyOf(v);
      const list = this.byTime.get(key);
      if (!list) this.byTime.set(key, [v]);
      else if (!list.some((other) => sameValues(other.metrics, v.metrics))) list.push(v);
    }
  }

  get size(): number {
    return this.byTime.size;
  }

  /** The archived verdict of this reading, if the archive holds one. */
  get(reading: Pick<Reading, "deviceId" | "ts" | "receivedAt" | "metrics">): ArchivedVerdict | undefined {
    const list = this.byTime.get(timeKeyOf(reading));
    if (!list) return undefined;
    for (const v of list) if (sameValues(v.metrics, reading.metrics)) return v;
    return undefined;
  }
}

function timeKeyOf(r: Pick<Reading, "deviceId" | "ts" | "receivedAt">): string {
  return `${r.deviceId}\u0000${r.ts}\u0000${r.receivedAt}`;
}

/** The same metric names with the same values (any key order: lake engines may return JSON keys reordered). */
function sameValues(a: Record<string, number>, b: Record<string, number>): boolean {
  let count = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    count += 1;
  }
  for (const _ in b) count -= 1;
  return count === 0;
}

/** An archived verdict as the rule path's detection. */
export function detectionOfVerdict(v: ArchivedVerdict): RecordDetection {
  return {
    score: v.score,
    grade: v.grade,
    detection: {
      score: v.score,
      anomaly: v.detection.anomaly,
      ...(v.detection.newEpisode !== undefined ? { newEpisode: v.detection.newEpisode } : {}),
      ...(v.detection.calibrated !== undefined ? { calibrated: v.detection.calibrated } : {}),
      ...(v.detection.expected !== undefined ? { expected: v.detection.expected } : {}),
      attribution: v.attribution,
    },
  };
}

/**
 * A warm-up reading the archive holds no verdict for: score 0, which no rule set's anomaly rule counts (an
 * uncalibrated model); bounds, stuck and silence rules still see the reading.
 */
export const NO_VERDICT: RecordDetection = {
  score: 0,
  grade: 0,
  detection: { score: 0, anomaly: false, attribution: [] },
};
