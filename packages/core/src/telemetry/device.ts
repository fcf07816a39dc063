import { z } from "zod";

/** A registered device: the contract of `npx driftwatch devices import` and the registry table. */
export const deviceSchema = z.object({
  deviceId: z.string().min(1).max(128),
  manufacturer: z.string().min(1).max(128),
  model: z.string().min(1).max(128),
  site: z.string().min(1).max(128).optional(),
});
export type Device = z.infer<typeof deviceSchema>;

export const deviceListSchema = z.array(deviceSchema);
