import { z } from "zod";
import { eventTimeSchema } from "../event-time.ts";
import {
  assertFiniteMetrics,
  deviceIdSchema,
  parseWithSchema,
  requireDeviceId,
  templateValue,
  type PayloadSource,
} from "./payload-source.ts";

/** Seed 001's CPU fan `{TIME, FANID, FREQ, RPM}` on `IoT_TOPIC/recieve` (the seed's spelling). */
export const fanPayloadSchema = z.object({
  TIME: eventTimeSchema,
  FANID: deviceIdSchema,
  FREQ: z.number(),
  RPM: z.number(),
});
export type FanPayload = z.infer<typeof fanPayloadSchema>;

export const fanSource: PayloadSource = {
  source: "fan",
  topicFilter: "IoT_TOPIC/recieve",
  partitionKeyTemplate: "${FANID}",
  deviceIdField: "FANID",
  partitionKey: (_topic, payload) => templateValue(payload?.FANID),
  parse(_topic, payload) {
    requireDeviceId(payload.FANID, "FANID");
    const parsed = parseWithSchema(fanPayloadSchema, payload, "fan");
    const metrics = { FREQ: parsed.FREQ, RPM: parsed.RPM };
    assertFiniteMetrics(metrics);
    return { deviceId: parsed.FANID, tsMs: parsed.TIME, metrics, tags: {} };
  },
};
