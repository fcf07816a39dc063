import { z } from "zod";
import { eventTimeSchema } from "../event-time.ts";
import { DeviceMismatchError } from "../ingest-errors.ts";
import { topicSegment } from "../topic-filter.ts";
import {
  MAX_METRICS,
  assertFiniteMetrics,
  deviceIdSchema,
  metricNameSchema,
  parseWithSchema,
  requireDeviceId,
  templateValue,
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

export const canonicalSource: PayloadSource = {
  source: "canonical",
  topicFilter: "dt/+/+/telemetry",
  partitionKeyTemplate: "${topic(3)}",
  deviceIdField: "deviceId",
  partitionKey: (topic) => templateValue(topicSegment(topic, 3)),
  parse(topic, payload) {
    requireDeviceId(payload.deviceId, "deviceId");
    const parsed = parseWithSchema(canonicalPayloadSchema, payload, "canonical");
    // The topic names the device too; IoT policies bind a thing to its own topic, so the two must agree.
    if (parsed.deviceId !== topicSegment(topic, 3)) throw new DeviceMismatchError();
    assertFiniteMetrics(parsed.metrics, ["metrics"]);
    const site = topicSegment(topic, 2);
    return {
      deviceId: parsed.deviceId,
      tsMs: parsed.ts,
      metrics: parsed.metrics,
      tags: {},
      site: site || undefined,
    };
  },
};
