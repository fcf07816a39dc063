import { z } from "zod";
import { InvalidSimulationOptionError } from "./errors.ts";

/**
 * The anomalies the simulator can inject (issue 2: spike, drift — a ramp —, stuck sensor, dropout; issue 8: shift,
 * a level shift held for its duration).
 */
export const anomalyKindSchema = z.enum(["spike", "drift", "stuck", "dropout", "shift"]);
export type AnomalyKind = z.infer<typeof anomalyKindSchema>;

export const allAnomalyKinds: readonly AnomalyKind[] = anomalyKindSchema.options;

/** A [min, max] range; a value is drawn uniformly from it for each anomaly. */
export type Range = readonly [number, number];

/**
 * What to inject. `rate` is the probability, per message a device would send, that a new anomaly starts on
 * that device (a device has at most one anomaly at a time). Durations are in seconds of event time; magnitudes
 * in multiples of the metric's normal fluctuation (`fluctuationScale`).
 */
export interface AnomalyOptions {
  kinds: readonly AnomalyKind[];
  rate: number;
  durationsSeconds?: Partial<Record<Exclude<AnomalyKind, "spike">, Range>>;
  magnitudes?: Partial<Record<SizedAnomalyKind, Range>>;
}

export const DEFAULT_ANOMALY_RATE = 0.001;

/** Kinds with a size (in multiples of the metric's normal fluctuation σ, `fluctuationScale`). */
export type SizedAnomalyKind = "spike" | "drift" | "shift";

export const defaultAnomalyDurationsSeconds: Record<Exclude<AnomalyKind, "spike">, Range> = {
  drift: [60, 300],
  stuck: [30, 180],
  // Longer than the default 60 s scoring window, so silent-device detection can see it.
  dropout: [90, 300],
  shift: [300, 900],
};

export const defaultAnomalyMagnitudes: Record<SizedAnomalyKind, Range> = {
  spike: [8, 12],
  drift: [6, 10],
  shift: [4, 6],
};

/** Parses `spike,drift,stuck,dropout` (CLI), naming what is wrong. */
export function parseAnomalyKinds(list: string): AnomalyKind[] {
  const kinds: AnomalyKind[] = [];
  for (const raw of list.split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const parsed = anomalyKindSchema.safeParse(part);
    if (!parsed.success) {
      throw new InvalidSimulationOptionError(
        `unknown anomaly kind "${part}" (choose from ${allAnomalyKinds.join(", ")})`,
        { option: "anomalies" },
      );
    }
    if (!kinds.includes(parsed.data)) kinds.push(parsed.data);
  }
  if (kinds.length === 0) {
    throw new InvalidSimulationOptionError(
      `no anomaly kinds given (choose from ${allAnomalyKinds.join(", ")})`,
      {
        option: "anomalies",
      },
    );
  }
  return kinds;
}

export function validateAnomalyOptions(options: AnomalyOptions): void {
  if (!Number.isFinite(options.rate) || options.rate < 0 || options.rate > 1) {
    throw new InvalidSimulationOptionError(
      `anomaly rate must be a probability in [0, 1], got ${options.rate}`,
      {
        option: "anomaly-rate",
      },
    );
  }
  const ranges: [string, Range | undefined][] = [
    ...Object.entries(options.durationsSeconds ?? {}),
    ...Object.entries(options.magnitudes ?? {}),
  ];
  for (const [name, range] of ranges) {
    if (range === undefined) continue;
    const [min, max] = range;
    if (!(Number.isFinite(min) && Number.isFinite(max) && min > 0 && max >= min)) {
      throw new InvalidSimulationOptionError(
        `${name} range must satisfy 0 < min <= max, got [${min}, ${max}]`,
        {
          option: name,
        },
      );
    }
  }
}
