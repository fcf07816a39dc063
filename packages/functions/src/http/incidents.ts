import { z } from "zod";
import { acknowledgeIncident, resolveIncident } from "@driftwatch/core/incidents/acknowledge";
import { normalizeActor } from "@driftwatch/core/incidents/actor";
import { IncidentNotFoundError } from "@driftwatch/core/incidents/errors";
import { incidentStateSchema } from "@driftwatch/core/incidents/incident";
import { toIncidentView } from "@driftwatch/core/incidents/incident-view";
import { logger } from "../shared/observability.ts";
import { createAuthenticator, verifierFromEnv, type Authenticator } from "./shared/auth.ts";
import { awsDeps, type ApiDepsProvider } from "./shared/deps.ts";
import { createHttpApi, parseInput, pathParam, reply } from "./shared/http-api.ts";

const listQuerySchema = z
  .object({
    state: incidentStateSchema.optional(),
    deviceId: z.string().min(1).max(128).optional(),
    rule: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

/** Acknowledge/resolve take no body fields (the actor is the token's user); an empty object is fine. */
const actionBodySchema = z.object({}).strict().optional();

/**
 * Incidents API: `GET /api/incidents?state=&deviceId=&rule=&limit=` (newest first, filters applied),
 * `GET /api/incidents/{id}`, `POST /api/incidents/{id}/ack` and `/resolve` (operators; the actor is the token's
 * user). Acknowledge/resolve release the escalation's wait (`SendTaskSuccess`); the reply is the incident view
 * with `outcome` (`acknowledged`, `already-acknowledged`, …).
 */
export function createIncidentsHandler(
  getDeps: ApiDepsProvider<"incidents" | "clock" | "tokens">,
  authenticate: Authenticator,
) {
  const act = (action: "ack" | "resolve") =>
    (async ({ params, body, principal }) => {
      parseInput(actionBodySchema, body);
      const { incidents, clock, tokens } = await getDeps();
      const deps = { store: incidents, clock, tokens };
      const incidentId = pathParam(params, "id");
      const actor = normalizeActor(principal.user);
      const result =
        action === "ack"
          ? await acknowledgeIncident(deps, { incidentId, actor, via: "api" })
          : await resolveIncident(deps, { incidentId, actor });
      logger.info(`incident ${action}`, { incidentId, outcome: result.outcome });
      return reply(200, { ...toIncidentView(result.incident), outcome: result.outcome });
    }) satisfies Parameters<typeof createHttpApi>[0][number]["handler"];
  return createHttpApi(
    [
      {
        method: "GET",
        path: "/api/incidents",
        handler: async ({ query }) => {
          const filter = parseInput(listQuerySchema, query);
          const { incidents } = await getDeps();
          const limit = filter.limit ?? 1000;
          const matching = (await incidents.list({ limit: 10_000 })).filter(
            (i) =>
              (!filter.state || i.state === filter.state) &&
              (!filter.deviceId || i.deviceId === filter.deviceId) &&
              (!filter.rule || i.rule === filter.rule),
          );
          return reply(200, matching.slice(0, limit).map(toIncidentView));
        },
      },
      {
        method: "GET",
        path: "/api/incidents/{id}",
        handler: async ({ params }) => {
          const { incidents } = await getDeps();
          const id = pathParam(params, "id");
          const record = await incidents.get(id);
          if (!record) throw new IncidentNotFoundError(`incident ${id} not found`);
          return reply(200, toIncidentView(record.incident));
        },
      },
      { method: "POST", path: "/api/incidents/{id}/ack", handler: act("ack") },
      { method: "POST", path: "/api/incidents/{id}/resolve", handler: act("resolve") },
    ],
    authenticate,
  );
}

export const handler = createIncidentsHandler(
  awsDeps("incidents", "clock", "tokens"),
  createAuthenticator(verifierFromEnv),
);
