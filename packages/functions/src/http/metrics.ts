import { z } from "zod";
import { mergeParts, WINDOW_AGGREGATE_FIELDS } from "@driftwatch/core/window/stored-part";
import { createAuthenticator, verifierFromEnv, type Authenticator } from "./shared/auth.ts";
import { awsDeps, type ApiDepsProvider } from "./shared/deps.ts";
import { createHttpApi, parseInput, pathParam, reply } from "./shared/http-api.ts";

/** The fields of a window aggregate row: exactly `driftwatch metrics --json`'s contract fields, in order. */
export const METRICS_FIELDS = WINDOW_AGGREGATE_FIELDS;

const time = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return undefined;
      const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
      if (!Number.isFinite(ms)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `${name} must be an ISO 8601 time or epoch milliseconds`,
        });
        return z.NEVER;
      }
      return ms;
    });

const querySchema = z
  .object({ from: time("from"), to: time("to"), eventTimes: z.enum(["true", "false"]).optional() })
  .strict();

/** `GET /api/devices/{deviceId}/metrics?from=&to=[&eventTimes=true]`: the device's stored window aggregates (parts merged). */
export function createMetricsHandler(getDeps: ApiDepsProvider<"metrics">, authenticate: Authenticator) {
  return createHttpApi(
    [
      {
        method: "GET",
        path: "/api/devices/{deviceId}/metrics",
        handler: async ({ params, query }) => {
          const range = parseInput(querySchema, query);
          const { metrics } = await getDeps();
          const deviceId = pathParam(params, "deviceId");
          const rows = mergeParts(await metrics.listParts(deviceId, { fromMs: range.from, toMs: range.to }));
          return reply(
            200,
            rows.map((row) => ({
              ...Object.fromEntries(METRICS_FIELDS.map((field) => [field, row[field]])),
              // `?eventTimes=true` adds each window's event-time span (`driftwatch metrics --event-times`).
              ...(range.eventTimes === "true"
                ? { firstEventAt: row.firstEventAt, lastEventAt: row.lastEventAt }
                : {}),
            })),
          );
        },
      },
    ],
    authenticate,
  );
}

export const handler = createMetricsHandler(awsDeps("metrics"), createAuthenticator(verifierFromEnv));
