import {
  defaultAnomalyDurationsSeconds,
  defaultAnomalyMagnitudes,
  type AnomalyKind,
  type AnomalyOptions,
  type Range,
  type SizedAnomalyKind,
} from "./anomaly-kind.ts";
import type { SimulatedDeviceType } from "./device-types.ts";
import type { GroundTruthLabel } from "./ground-truth.ts";
import {
  clampToModel,
  dailyLevel,
  fluctuationScale,
  roundToModel,
  type MetricModel,
} from "./metric-process.ts";
import type { Prng } from "./prng.ts";

interface ActiveAnomaly {
  kind: AnomalyKind;
  /** The signal it changes; `"*"` for dropout. */
  signal: string;
  metrics: string[];
  startMs: number;
  /** Planned end (exclusive) for drift, stuck and dropout. */
  endMs: number;
  direction: 1 | -1;
  magnitude: number;
  stuckValue?: number;
  firstMs?: number;
  lastMs?: number;
  messages: number;
}

export interface DeviceAnomalyTarget {
  deviceId: string;
  deviceType: SimulatedDeviceType;
  signals: Record<string, MetricModel>;
  /** Reading metrics a signal drives (fan: FREQ → FREQ, RPM). */
  metricsOf(signal: string): string[];
  /** Every reading metric of the device. */
  allMetrics: string[];
}

/**
 * Injects anomalies into one device's message stream, at most one at a time, and labels each one. It draws
 * from its own random stream, so the device's healthy values are the same with and without injection: the
 * difference between the two runs is exactly what the labels describe.
 *
 * Per message the device would send: `begin(t, emittedSignals)` (ends a finished anomaly, maybe starts one,
 * says whether the message is suppressed), then `apply(signal, healthy, t)` per emitted signal.
 */
export class DeviceAnomalyInjector {
  private active: ActiveAnomaly | undefined;
  private readonly durations: Record<Exclude<AnomalyKind, "spike">, Range>;
  private readonly magnitudes: Record<SizedAnomalyKind, Range>;

  constructor(
    private readonly target: DeviceAnomalyTarget,
    private readonly options: AnomalyOptions,
    private readonly prng: Prng,
  ) {
    this.durations = { ...defaultAnomalyDurationsSeconds, ...options.durationsSeconds };
    this.magnitudes = { ...defaultAnomalyMagnitudes, ...options.magnitudes };
  }

  /** Called once per message slot. Returns finished labels and whether this message is suppressed (dropout). */
  begin(tMs: number, emittedSignals: readonly string[]): { labels: GroundTruthLabel[]; suppress: boolean } {
    const labels: GroundTruthLabel[] = [];
    const active = this.active;
    if (active !== undefined) {
      const over = active.kind === "spike" ? active.messages > 0 : tMs >= active.endMs;
      if (over) {
        const label = this.toLabel(active, false);
        if (label) labels.push(label);
        this.active = undefined;
      }
    }
    if (this.active === undefined && this.options.kinds.length > 0 && this.prng.chance(this.options.rate)) {
      this.active = this.start(tMs, emittedSignals);
    }
    const current = this.active;
    if (current?.kind === "dropout") {
      current.firstMs ??= tMs;
      current.lastMs = tMs;
      current.messages++;
      return { labels, suppress: true };
    }
    return { labels, suppress: false };
  }

  /** The value to publish for `signal` at `tMs`, given its healthy value. */
  apply(signal: string, healthy: number, tMs: number): number {
    const active = this.active;
    if (active === undefined || active.signal !== signal || active.kind === "dropout") return healthy;
    const model = this.target.signals[signal];
    let value: number;
    switch (active.kind) {
      case "spike":
        value = healthy + active.direction * active.magnitude;
        break;
      case "drift": {
        const fraction = Math.min(1, Math.max(0, (tMs - active.startMs) / (active.endMs - active.startMs)));
        value = healthy + active.direction * active.magnitude * fraction;
        break;
      }
      case "shift":
        value = healthy + active.direction * active.magnitude;
        break;
      case "stuck":
        // Held as published (rounded), so the label's `value` is exactly what the messages repeat.
        active.stuckValue ??= roundToModel(model, healthy);
        value = active.stuckValue;
        break;
    }
    active.firstMs ??= tMs;
    active.lastMs = tMs;
    active.messages++;
    return clampToModel(model, value);
  }

  /** Labels the anomaly still going on when the run stops (marked `truncated`). */
  finish(): GroundTruthLabel[] {
    const active = this.active;
    this.active = undefined;
    if (active === undefined) return [];
    const label = this.toLabel(active, true);
    return label ? [label] : [];
  }

  private start(tMs: number, emittedSignals: readonly string[]): ActiveAnomaly {
    const kind = this.prng.pick(this.options.kinds);
    if (kind === "dropout") {
      const [min, max] = this.durations.dropout;
      return {
        kind,
        signal: "*",
        metrics: [...this.target.allMetrics],
        startMs: tMs,
        endMs: tMs + this.prng.uniform(min, max) * 1000,
        direction: 1,
        magnitude: 0,
        messages: 0,
      };
    }
    const signal = this.prng.pick(emittedSignals);
    const model = this.target.signals[signal];
    let direction: 1 | -1 = this.prng.chance(0.5) ? 1 : -1;
    let magnitude = 0;
    let endMs = tMs;
    if (kind === "spike" || kind === "drift" || kind === "shift") {
      const [min, max] = this.magnitudes[kind];
      magnitude = this.prng.uniform(min, max) * fluctuationScale(model);
      // Go where the physical bounds leave room (SpO2 cannot spike above 100 %), so the label stays true.
      const level = dailyLevel(model, tMs);
      if (direction === 1 && level + magnitude > model.max) direction = -1;
      else if (direction === -1 && level - magnitude < model.min) direction = 1;
    }
    if (kind === "drift" || kind === "stuck" || kind === "shift") {
      const [min, max] = this.durations[kind];
      endMs = tMs + this.prng.uniform(min, max) * 1000;
    }
    return {
      kind,
      signal,
      metrics: this.target.metricsOf(signal),
      startMs: tMs,
      endMs,
      direction,
      magnitude,
      messages: 0,
    };
  }

  private toLabel(active: ActiveAnomaly, truncated: boolean): GroundTruthLabel | undefined {
    if (active.messages === 0 || active.firstMs === undefined || active.lastMs === undefined)
      return undefined;
    const label: GroundTruthLabel = {
      deviceId: this.target.deviceId,
      deviceType: this.target.deviceType,
      metric: active.signal,
      metrics: active.metrics,
      kind: active.kind,
      start: new Date(active.firstMs).toISOString(),
      end: new Date(active.lastMs).toISOString(),
      messages: active.messages,
    };
    if (active.kind === "spike" || active.kind === "drift" || active.kind === "shift") {
      label.direction = active.direction === 1 ? "HIGH" : "LOW";
      label.magnitude = active.magnitude;
    }
    if (active.kind === "stuck" && active.stuckValue !== undefined) label.value = active.stuckValue;
    if (truncated) label.truncated = true;
    return label;
  }
}
