import { z } from "zod";
import { eventTimeMs, eventTimeSchema } from "../event-time.ts";
import { DeviceMismatchError } from "../ingest-errors.ts";
import { topicSegment, topicSegments } from "../topic-filter.ts";
import {
  MAX_METRICS,
  assertFiniteMetrics,
  deviceIdSchema,
  isDeviceId,
  isMetricRecord,
  metricNameSchema,
  parseWithSchema,
  requireDeviceId,
  templateValue,
  type FastParse,
  type PayloadSource,
} from "./payload-source.ts";

/** `{"deviceId","ts","metrics":{name:number}}` on `dt/{site}/{deviceId}/telemetry`. Other fields are ignored. */
export const canonicalPayloadSchema = z.object({
  deviceId: deviceIdSchema,
  ts: eventTimeSchema,
  metrics: z
    .record(metricNameSchema, z.number())
    .refine((metrics) => Object.keys(metrics).length > 0, { message: "must hold at least one metric" })
    .refine((metrics) => Object.keys(metrics).length <= MAX_METRICS, {
      message: `must hold at most ${MAX_METRICS} metrics`,
    }),
});
export type CanonicalPayload = z.infer<typeof canonicalPayloadSchema>;

/**
 * `canonicalPayloadSchema` for well-formed payloads, without zod (ADR 0204): the same output (`metrics` is the
 * payload's own object, which zod would copy key for key), or undefined to let zod decide.
 */
export const fastCanonicalPayload: FastParse<CanonicalPayload> = (payload) => {
  const { deviceId, metrics } = payload;
  if (!isDeviceId(deviceId) || !isMetricRecord(metrics)) return undefined;
  const ts = eventTimeMs(payload.ts);
  return ts === undefined ? undefined : { deviceId, ts, metrics };
};

export const canonicalSource: PayloadSource = {
  source: "canonical",
  topicFilter: "dt/+/+/telemetry",
  partitionKeyTemplate: "${topic(3)}",
  deviceIdField: "deviceId",
  partitionKey: (topic) => templateValue(topicSegment(topic, 3)),
  parse(topic, payload) {
    requireDeviceId(payload.deviceId, "deviceId");
    const parsed = parseWithSchema(canonicalPayloadSchema, payload, "canonical", fastCanonicalPayload);
    // The topic names the device too; IoT policies bind a thing to its own topic, so the two must agree.
    const segments = topicSegments(topic);
    if (parsed.deviceId !== segments[2]) throw new DeviceMismatchError();
    assertFiniteMetrics(parsed.metrics, ["metrics"]);
    const site = segments[1];
    return {
      deviceId: parsed.deviceId,
      tsMs: parsed.ts,
      metrics: parsed.metrics,
      tags: {},
      site: site || undefined,
    };
  },
};
