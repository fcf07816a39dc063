import { z } from "zod";
import { eventTimeMs, eventTimeSchema } from "../event-time.ts";
import { fieldKeyedSource } from "./field-keyed-source.ts";
import { deviceIdSchema, isDeviceId, isZodNumber, type FastParse } from "./payload-source.ts";

/** Seed 001's CPU fan `{TIME, FANID, FREQ, RPM}` on `IoT_TOPIC/recieve` (the seed's spelling). */
export const fanPayloadSchema = z.object({
  TIME: eventTimeSchema,
  FANID: deviceIdSchema,
  FREQ: z.number(),
  RPM: z.number(),
});
export type FanPayload = z.infer<typeof fanPayloadSchema>;

/** `fanPayloadSchema` for well-formed payloads, without zod (same output, or undefined: zod decides). */
export const fastFanPayload: FastParse<FanPayload> = (payload) => {
  const { FANID, FREQ, RPM } = payload;
  if (!isDeviceId(FANID) || !isZodNumber(FREQ) || !isZodNumber(RPM)) return undefined;
  const TIME = eventTimeMs(payload.TIME);
  return TIME === undefined ? undefined : { TIME, FANID, FREQ, RPM };
};

export const fanSource = fieldKeyedSource({
  source: "fan",
  topicFilter: "IoT_TOPIC/recieve",
  deviceIdField: "FANID",
  schema: fanPayloadSchema,
  fast: fastFanPayload,
  toReading: (parsed) => ({
    deviceId: parsed.FANID,
    tsMs: parsed.TIME,
    metrics: { FREQ: parsed.FREQ, RPM: parsed.RPM },
  }),
});
