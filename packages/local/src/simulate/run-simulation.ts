import { randomBytes } from "node:crypto";
import { basicIngestTopic, ingestRuleName } from "@driftwatch/core/telemetry/basic-ingest";
import { resolvePayloadSource } from "@driftwatch/core/telemetry/payload-sources";
import type { AnomalyOptions } from "@driftwatch/core/simulator/anomaly-kind";
import type { SimulatedDevice } from "@driftwatch/core/simulator/devices";
import type { GroundTruthLabel } from "@driftwatch/core/simulator/ground-truth";
import {
  achievedRate,
  clientForDevice,
  deviceForMessage,
  dueCount,
  dueOffsetMs,
  eventTimeMs,
  planPacing,
  type PacingPlan,
} from "@driftwatch/core/simulator/pacing";
import { createSimulation, type SimulatedMessage } from "@driftwatch/core/simulator/simulation";
import { openGroundTruthFile, type GroundTruthWriter } from "./ground-truth-file.ts";
import { connectFleet } from "./mqtt-fleet.ts";

export interface SimulationProgress {
  /** Message slots processed (published + suppressed by dropouts). */
  slots: number;
  total: number;
  attempted: number;
  sent: number;
  failed: number;
  suppressed: number;
  inFlight: number;
  labels: number;
  elapsedMs: number;
}

export interface RunSimulationOptions {
  /** e.g. `mqtt://127.0.0.1:1883`. */
  mqttUrl: string;
  devices: readonly SimulatedDevice[];
  /** Messages per second, whole fleet. */
  rate: number;
  /** MQTT connections; devices share them round-robin. Default: one per device. */
  clients?: number;
  durationSeconds?: number;
  count?: number;
  seed: number;
  anomalies?: AnomalyOptions;
  /** 1 (default): a message counts as sent when the broker acknowledges it; 0: when it is written. */
  qos?: 0 | 1;
  /**
   * Publish through AWS IoT Basic Ingest: to `$aws/rules/driftwatch_<stage>_<rule>/<topic>` (the rule the topic's
   * payload shape has) instead of `<topic>`. Local mode's rules are stage `local`. Default: the broker topics.
   */
  basicIngestStage?: string;
  groundTruthFile?: string;
  /** Stops the run early (Ctrl-C); what was published is drained and summarized. */
  signal?: AbortSignal;
  /** Event time of message 0 (default: now). Messages carry their scheduled time, so per-device times strictly increase. */
  startTimeMs?: number;
  /** Unacknowledged QoS 1 messages allowed before the run waits for the broker. Default 5000. */
  maxInFlight?: number;
  /** How long to wait for outstanding acknowledgements at the end. Default 30 s. */
  drainTimeoutMs?: number;
  connectTimeoutMs?: number;
  onProgress?: (progress: SimulationProgress) => void;
  progressIntervalMs?: number;
  /** Called when a message is handed to its client (benchmarks record publish times here). */
  onPublish?: (message: SimulatedMessage, publishedAtMs: number) => void;
  onLabel?: (label: GroundTruthLabel) => void;
}

export interface SimulationSummary {
  plan: PacingPlan;
  /** Messages handed to a client. */
  attempted: number;
  /** Acknowledged by the broker (QoS 1) or written to the socket (QoS 0). */
  sent: number;
  /** Publish errors plus messages still unacknowledged when the drain timed out. */
  failed: number;
  /** Slots a device skipped because of an injected dropout (labelled in the ground truth). */
  suppressed: number;
  labels: number;
  groundTruthFile?: string;
  /** From the first due message to the last one published. */
  publishMs: number;
  /** Waiting for outstanding acknowledgements at the end. */
  drainMs: number;
  /** `sent` per second of `publishMs` plus one message interval. */
  achievedRate: number;
  /** Largest delay between a message's due time and its publish. */
  maxLagMs: number;
  stoppedEarly: boolean;
  /** The first publish error, for the summary (no payload content). */
  firstError?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Publishes a simulated fleet over MQTT at a steady rate: message k at `start + k / rate`, device `k mod N`,
 * over `clients` connections. Labels of injected anomalies go to the ground-truth file as they end.
 */
export async function runSimulation(options: RunSimulationOptions): Promise<SimulationSummary> {
  const plan = planPacing({
    rate: options.rate,
    devices: options.devices.length,
    clients: options.clients,
    durationSeconds: options.durationSeconds,
    count: options.count,
  });
  const simulation = createSimulation({
    seed: options.seed,
    devices: options.devices,
    anomalies: options.anomalies,
  });
  const qos = options.qos ?? 1;
  const maxInFlight = options.maxInFlight ?? 5_000;
  const writer: GroundTruthWriter | undefined = options.groundTruthFile
    ? openGroundTruthFile(options.groundTruthFile)
    : undefined;
  let labels = 0;
  const record = (found: readonly GroundTruthLabel[]) => {
    if (found.length === 0) return;
    labels += found.length;
    writer?.append(found);
    if (options.onLabel) for (const label of found) options.onLabel(label);
  };

  let fleet;
  try {
    fleet = await connectFleet({
      url: options.mqttUrl,
      clients: plan.clients,
      clientIdPrefix: `driftwatch-sim-${randomBytes(4).toString("hex")}`,
      connectTimeoutMs: options.connectTimeoutMs,
    });
  } catch (error) {
    await writer?.close();
    throw error;
  }

  let attempted = 0;
  let sent = 0;
  let failed = 0;
  let suppressed = 0;
  let inFlight = 0;
  let maxLagMs = 0;
  let firstError: string | undefined;
  let k = 0;
  const wallStart = performance.now();
  const eventStart = options.startTimeMs ?? Date.now();
  let lastPublishAt = wallStart;
  const progress = (): SimulationProgress => ({
    slots: k,
    total: plan.total,
    attempted,
    sent,
    failed,
    suppressed,
    inFlight,
    labels,
    elapsedMs: performance.now() - wallStart,
  });
  const stage = options.basicIngestStage;
  const publishTopic = (topic: string): string => {
    if (stage === undefined) return topic;
    const source = resolvePayloadSource(topic);
    return source ? basicIngestTopic(ingestRuleName(stage, source.source), topic) : topic;
  };
  const progressTimer = options.onProgress
    ? setInterval(() => options.onProgress!(progress()), options.progressIntervalMs ?? 250)
    : undefined;

  try {
    while (k < plan.total && !options.signal?.aborted) {
      const elapsed = performance.now() - wallStart;
      const due = dueCount(plan, elapsed);
      while (k < due && inFlight < maxInFlight) {
        const deviceIndex = deviceForMessage(plan, k);
        const step = simulation.step(deviceIndex, eventTimeMs(plan, eventStart, k));
        record(step.labels);
        const message = step.message;
        if (message) {
          const client = fleet.clients[clientForDevice(plan, deviceIndex)];
          const now = performance.now();
          maxLagMs = Math.max(maxLagMs, now - wallStart - dueOffsetMs(plan, k));
          inFlight++;
          attempted++;
          options.onPublish?.(message, Date.now());
          client.publish(publishTopic(message.topic), message.payload, { qos }, (error) => {
            inFlight--;
            if (error) {
              failed++;
              firstError ??= error.message;
            } else {
              sent++;
            }
          });
          lastPublishAt = now;
        } else {
          suppressed++;
        }
        k++;
      }
      if (k >= plan.total) break;
      const untilNext = dueOffsetMs(plan, k) - (performance.now() - wallStart);
      await sleep(inFlight >= maxInFlight ? 2 : Math.max(1, Math.min(20, untilNext)));
    }
    const publishMs = Math.max(0, lastPublishAt - wallStart);
    const drainStart = performance.now();
    const drainTimeout = options.drainTimeoutMs ?? 30_000;
    while (inFlight > 0 && performance.now() - drainStart < drainTimeout) await sleep(5);
    const drainMs = performance.now() - drainStart;
    const unconfirmed = inFlight;
    if (unconfirmed > 0) firstError ??= `${unconfirmed} message(s) unacknowledged after ${drainTimeout} ms`;
    record(simulation.finish());
    return {
      plan,
      attempted,
      sent,
      failed: failed + unconfirmed,
      suppressed,
      labels,
      groundTruthFile: writer?.file,
      publishMs,
      drainMs,
      // n evenly paced messages span (n - 1) intervals; counting one more interval makes a perfect run read `rate`.
      achievedRate: achievedRate(sent, publishMs + 1000 / plan.rate),
      maxLagMs,
      stoppedEarly: k < plan.total,
      firstError,
    };
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    options.onProgress?.(progress());
    await fleet.close();
    await writer?.close();
  }
}
