import { z } from "zod";
import { anomalyKindSchema } from "./anomaly-kind.ts";
import { simulatedDeviceTypeSchema } from "./device-types.ts";
import { InvalidGroundTruthError } from "./errors.ts";

/**
 * One injected anomaly, as written to the ground-truth JSONL (one object per line) for later evaluation of the
 * detector. Times are event times (the timestamps the affected messages carry), ISO 8601 UTC.
 *
 * - spike: one message with the metric pushed `magnitude` away from its healthy value, `direction` HIGH or LOW.
 * - drift: the metric's offset grows linearly from 0 to `magnitude` (in `direction`) between `start` and `end`.
 * - shift: the metric is offset by `magnitude` (in `direction`) from `start` to `end` (a level shift).
 * - stuck: the metric repeats `value` (the reading at `start`) until `end`.
 * - dropout: the device publishes nothing from `start` to `end` (the times of the first and last message it
 *   would have sent); `metric` is `"*"` and `messages` counts the suppressed messages. No message carries a
 *   dropout, so this label is the only trace of it.
 */
export const groundTruthLabelSchema = z.object({
  deviceId: z.string().min(1),
  deviceType: simulatedDeviceTypeSchema,
  /** The metric the anomaly was injected into, `"*"` for dropout. */
  metric: z.string().min(1),
  /** Every reading metric that changes with it (the fan's `RPM` follows `FREQ`; dropout: all of the device's). */
  metrics: z.array(z.string().min(1)),
  kind: anomalyKindSchema,
  start: z.string().datetime(),
  end: z.string().datetime(),
  /** Messages that carried the anomaly (dropout: messages not sent). */
  messages: z.number().int().nonnegative(),
  direction: z.enum(["HIGH", "LOW"]).optional(),
  /** Size of the offset at its largest, in the metric's units (spike, drift, shift). */
  magnitude: z.number().nonnegative().optional(),
  /** The repeated value (stuck). */
  value: z.number().optional(),
  /** The run ended while the anomaly was still going on. */
  truncated: z.boolean().optional(),
});
export type GroundTruthLabel = z.infer<typeof groundTruthLabelSchema>;

/** One JSONL line (with its newline). */
export function formatGroundTruthLine(label: GroundTruthLabel): string {
  return `${JSON.stringify(label)}\n`;
}

/** Parses a ground-truth JSONL file; blank lines are skipped, a bad line throws with its line number. */
export function parseGroundTruth(text: string): GroundTruthLabel[] {
  const labels: GroundTruthLabel[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new InvalidGroundTruthError(`ground truth line ${i + 1}: not JSON`, {
        line: i + 1,
        cause: error,
      });
    }
    const parsed = groundTruthLabelSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidGroundTruthError(
        `ground truth line ${i + 1}: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
        { line: i + 1 },
      );
    }
    labels.push(parsed.data);
  }
  return labels;
}
