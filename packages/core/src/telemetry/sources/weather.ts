import { z } from "zod";
import { eventTimeSchema } from "../event-time.ts";
import { SchemaValidationError } from "../ingest-errors.ts";
import { topicSegment } from "../topic-filter.ts";
import {
  METRIC_NAME,
  assertFiniteMetrics,
  deviceIdSchema,
  parseWithSchema,
  requireDeviceId,
  templateValue,
  type PayloadSource,
} from "./payload-source.ts";

/** Seed 000's payload on `weather/<state>/<city>/<station_id>/<sensor_type>/<sensor_id>`. */
export const weatherPayloadSchema = z.object({
  value: z.number(),
  smoothed: z.number().optional(),
  direction: z.number().int().min(-1).max(1).optional(),
  timestamp: eventTimeSchema,
});
export type WeatherPayload = z.infer<typeof weatherPayloadSchema>;

/**
 * The seed's IoT SQL, `topic(6) AS sensor_id, topic(4) AS station_id, topic(5) AS sensor`, as a reading:
 * device = station id (topic(4)); metric name = sensor type (topic(5)); `value` → `metrics[sensor]`,
 * `smoothed` → `metrics[sensor + "_smoothed"]`; `direction` (the smoother's trend, -1/0/1) is categorical, so it
 * is a tag, not a metric (it would otherwise become an RCF dimension and an aggregate); tags also carry
 * `state` (topic(2)), `city` (topic(3)) and `sensor_id` (topic(6)).
 */
export const weatherSource: PayloadSource = {
  source: "weather",
  topicFilter: "weather/+/+/+/+/+",
  partitionKeyTemplate: "${topic(4)}",
  deviceIdField: "topic(4)",
  partitionKey: (topic) => templateValue(topicSegment(topic, 4)),
  parse(topic, payload) {
    const stationId = topicSegment(topic, 4);
    requireDeviceId(stationId, "topic(4)");
    const deviceCheck = deviceIdSchema.safeParse(stationId);
    if (!deviceCheck.success) {
      throw new SchemaValidationError("weather topic's station id is invalid", [
        { path: "topic(4)", message: "not a valid device id" },
      ]);
    }
    const sensor = topicSegment(topic, 5) ?? "";
    if (!METRIC_NAME.test(sensor)) {
      throw new SchemaValidationError("weather topic's sensor type is not a valid metric name", [
        {
          path: "topic(5)",
          message: "metric names are 1-64 of A-Z a-z 0-9 _ . : - and start with a letter, digit or _",
        },
      ]);
    }
    const parsed = parseWithSchema(weatherPayloadSchema, payload, "weather");
    const metrics: Record<string, number> = { [sensor]: parsed.value };
    if (parsed.smoothed !== undefined) metrics[`${sensor}_smoothed`] = parsed.smoothed;
    assertFiniteMetrics(metrics);
    const tags: Record<string, string> = {
      state: topicSegment(topic, 2) ?? "",
      city: topicSegment(topic, 3) ?? "",
      sensor_id: topicSegment(topic, 6) ?? "",
    };
    if (parsed.direction !== undefined) tags.direction = String(parsed.direction);
    return { deviceId: deviceCheck.data, tsMs: parsed.timestamp, metrics, tags };
  },
};
