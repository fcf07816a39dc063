import type { z } from "zod";
import type { ReadingSource } from "../reading.ts";
import {
  assertFiniteMetrics,
  parseWithSchema,
  requireDeviceId,
  templateValue,
  type FastParse,
  type PayloadSource,
} from "./payload-source.ts";

export interface FieldKeyedSourceDefinition<S extends z.ZodTypeAny> {
  source: ReadingSource;
  /** The one topic (filter) the devices publish on. */
  topicFilter: string;
  /** The payload field holding the device id; also the partition key (`${field}`). */
  deviceIdField: string;
  schema: S;
  /** `schema` without zod for well-formed payloads (same output, or undefined to let zod decide; ADR 0204). */
  fast?: FastParse<z.infer<S>>;
  /** The reading's device, event time and metrics from the validated payload (no tags). */
  toReading(parsed: z.infer<S>): { deviceId: string; tsMs: number; metrics: Record<string, number> };
}

/**
 * A payload shape whose device is named by one of its own fields (the topic names no device): the partition
 * key is that field; parsing requires the field, validates the schema, then checks the metrics are finite.
 */
export function fieldKeyedSource<S extends z.ZodTypeAny>(
  definition: FieldKeyedSourceDefinition<S>,
): PayloadSource {
  const { source, topicFilter, deviceIdField, schema, fast, toReading } = definition;
  return {
    source,
    topicFilter,
    partitionKeyTemplate: `\${${deviceIdField}}`,
    deviceIdField,
    partitionKey: (_topic, payload) => templateValue(payload?.[deviceIdField]),
    parse(_topic, payload) {
      requireDeviceId(payload[deviceIdField], deviceIdField);
      const reading = toReading(parseWithSchema(schema, payload, source, fast));
      assertFiniteMetrics(reading.metrics);
      return { ...reading, tags: {} };
    },
  };
}
