import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { acknowledgeIncident, resolveIncident } from "@driftwatch/core/incidents/acknowledge";
import { normalizeActor } from "@driftwatch/core/incidents/actor";
import { IncidentNotFoundError } from "@driftwatch/core/incidents/errors";
import { toIncidentView } from "@driftwatch/core/incidents/incident-view";
import { systemClock } from "@driftwatch/core/ports/clock";
import { DriftwatchError, ValidationError } from "@driftwatch/core/shared/errors";
import { lazy } from "../shared/config.ts";
import { logger, withObservability } from "../shared/observability.ts";
import { awsStore, awsTokens, type DepsProvider } from "../stepfunctions/deps.ts";
import { bodyFields, methodOf } from "./request.ts";

function reply(statusCode: number, value: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(value),
  };
}

/** Who is acting: the authenticated principal on AWS (JWT e-mail/sub), else `by` from the body, else `fallback`. */
function actorOf(event: APIGatewayProxyEventV2, fallback: string): string {
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
    .authorizer?.jwt?.claims;
  const principal = claims?.email ?? claims?.["cognito:username"] ?? claims?.sub;
  if (typeof principal === "string") return normalizeActor(principal);
  return normalizeActor(bodyFields(event).by, fallback);
}

/**
 * Incidents API: `GET /api/incidents` (every incident, newest first), `GET /api/incidents/{id}`,
 * `POST /api/incidents/{id}/ack` and `POST /api/incidents/{id}/resolve` (`{"by": "name"}` unless the request is
 * authenticated). Acknowledge/resolve release the escalation's wait (`SendTaskSuccess`). The HTTP API stack
 * mounts it with auth and an operator role for writes; local mode mounts it on 127.0.0.1:3000.
 */
export function createIncidentsApiHandler(
  getDeps: DepsProvider<"store" | "clock" | "tokens">,
  options: { defaultActor?: string } = {},
) {
  const fallback = options.defaultActor ?? "api";
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const method = methodOf(event);
    const path = (event.rawPath ?? "/").replace(/\/+$/, "");
    const match = /^\/api\/incidents(?:\/([^/]+)(?:\/(ack|resolve))?)?$/.exec(path);
    if (!match) return reply(404, { error: "NotFound", message: `No route for ${path}` });
    const [, rawId, action] = match;
    let id: string | undefined;
    try {
      id = rawId ? decodeURIComponent(rawId) : undefined;
    } catch {
      return reply(400, { error: "BadRequest", message: "malformed percent-encoding in the incident id" });
    }
    try {
      const deps = await getDeps();
      if (!id) {
        if (method !== "GET")
          return reply(405, { error: "MethodNotAllowed", message: `${method} not allowed` });
        const limit = Number(event.queryStringParameters?.limit ?? 1000);
        const incidents = await deps.store.list({
          limit: Number.isFinite(limit) && limit > 0 ? limit : 1000,
        });
        return reply(200, incidents.map(toIncidentView));
      }
      if (!action) {
        if (method !== "GET")
          return reply(405, { error: "MethodNotAllowed", message: `${method} not allowed` });
        const record = await deps.store.get(id);
        if (!record) throw new IncidentNotFoundError(`incident ${id} not found`);
        return reply(200, toIncidentView(record.incident));
      }
      if (method !== "POST")
        return reply(405, { error: "MethodNotAllowed", message: `${method} not allowed` });
      const actor = actorOf(event, fallback);
      const result =
        action === "ack"
          ? await acknowledgeIncident(deps, { incidentId: id, actor, via: "api" })
          : await resolveIncident(deps, { incidentId: id, actor });
      logger.info(`incident ${action}`, { incidentId: id, outcome: result.outcome });
      return reply(200, { outcome: result.outcome, incident: toIncidentView(result.incident) });
    } catch (error) {
      if (error instanceof IncidentNotFoundError)
        return reply(404, { error: error.name, message: error.message });
      if (error instanceof ValidationError) return reply(400, { error: error.name, message: error.message });
      logger.error("incidents api failed", { error: (error as Error).name });
      const name = error instanceof DriftwatchError ? error.name : "InternalError";
      return reply(503, { error: name, message: "Temporarily unavailable, try again" });
    }
  };
  return withObservability(middy(handle));
}

export const handler = createIncidentsApiHandler(
  lazy(async () => ({ store: await awsStore(), clock: systemClock, tokens: await awsTokens() })),
);
