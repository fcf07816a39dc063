import { z } from "zod";
import { eventTimeMs, eventTimeSchema } from "../event-time.ts";
import { SchemaValidationError } from "../ingest-errors.ts";
import { topicSegment, topicSegments } from "../topic-filter.ts";
import {
  METRIC_NAME,
  assertFiniteMetrics,
  deviceIdSchema,
  isDeviceId,
  isZodNumber,
  parseWithSchema,
  requireDeviceId,
  templateValue,
  type FastParse,
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

/** `weatherPayloadSchema` for well-formed payloads, without zod (same output, or undefined: zod decides). */
export const fastWeatherPayload: FastParse<WeatherPayload> = (payload) => {
  const { value, smoothed, direction } = payload;
  if (!isZodNumber(value)) return undefined;
  if (smoothed !== undefined && !isZodNumber(smoothed)) return undefined;
  // z.number().int().min(-1).max(1)
  if (direction !== undefined && direction !== -1 && direction !== 0 && direction !== 1) return undefined;
  const timestamp = eventTimeMs(payload.timestamp);
  if (timestamp === undefined) return undefined;
  const parsed: WeatherPayload = { value, timestamp };
  if (smoothed !== undefined) parsed.smoothed = smoothed;
  if (direction !== undefined) parsed.direction = direction as number;
  return parsed;
};

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
    const segments = topicSegments(topic);
    const stationId = segments[3];
    requireDeviceId(stationId, "topic(4)");
    if (!isDeviceId(stationId) && !deviceIdSchema.safeParse(stationId).success) {
      throw new SchemaValidationError("weather topic's station id is invalid", [
        { path: "topic(4)", message: "not a valid device id" },
      ]);
    }
    const sensor = segments[4] ?? "";
    if (!METRIC_NAME.test(sensor)) {
      throw new SchemaValidationError("weather topic's sensor type is not a valid metric name", [
        {
          path: "topic(5)",
          message: "metric names are 1-64 of A-Z a-z 0-9 _ . : - and start with a letter, digit or _",
        },
      ]);
    }
    const parsed = parseWithSchema(weatherPayloadSchema, payload, "weather", fastWeatherPayload);
    const metrics: Record<string, number> = { [sensor]: parsed.value };
    if (parsed.smoothed !== undefined) metrics[`${sensor}_smoothed`] = parsed.smoothed;
    assertFiniteMetrics(metrics);
    const tags: Record<string, string> = {
      state: segments[1] ?? "",
      city: segments[2] ?? "",
      sensor_id: segments[5] ?? "",
    };
    if (parsed.direction !== undefined) tags.direction = String(parsed.direction);
    return { deviceId: stationId as string, tsMs: parsed.timestamp, metrics, tags };
  },
};
