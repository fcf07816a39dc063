import { z } from "zod";
import { eventTimeSchema } from "../event-time.ts";
import { fieldKeyedSource } from "./field-keyed-source.ts";
import { deviceIdSchema } from "./payload-source.ts";

/** Seed 001's CPU fan `{TIME, FANID, FREQ, RPM}` on `IoT_TOPIC/recieve` (the seed's spelling). */
export const fanPayloadSchema = z.object({
  TIME: eventTimeSchema,
  FANID: deviceIdSchema,
  FREQ: z.number(),
  RPM: z.number(),
});
export type FanPayload = z.infer<typeof fanPayloadSchema>;

export const fanSource = fieldKeyedSource({
  source: "fan",
  topicFilter: "IoT_TOPIC/recieve",
  deviceIdField: "FANID",
  schema: fanPayloadSchema,
  toReading: (parsed) => ({
    deviceId: parsed.FANID,
    tsMs: parsed.TIME,
    metrics: { FREQ: parsed.FREQ, RPM: parsed.RPM },
  }),
});
