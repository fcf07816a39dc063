import { z } from "zod";
import { deleteRule, putRule, toRuleView } from "@driftwatch/core/thresholds/edit-rule";
import { parseScopePath } from "@driftwatch/core/thresholds/scope-path";
import { createAuthenticator, verifierFromEnv, type Authenticator } from "./shared/auth.ts";
import { awsDeps, type ApiDepsProvider } from "./shared/deps.ts";
import { createHttpApi, parseInput, NotFoundError, reply } from "./shared/http-api.ts";

const historyQuerySchema = z
  .object({
    scope: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(5000).optional(),
  })
  .strict();

/** The scope path of a `{proxy+}` route (API Gateway names it `scope`, the router `proxy`). */
function scopeOf(params: Record<string, string>): string {
  return params.scope ?? params.proxy ?? "";
}

/**
 * Thresholds API: `GET /api/thresholds`, `GET /api/thresholds/history?scope=&limit=` (newest first),
 * `GET|PUT|DELETE /api/thresholds/{scope+}` with scope `global`, `manufacturers/{m}`, `models/{m}/{model}` or
 * `devices/{deviceId}`. PUT stores the strict rule body as the scope's whole rule; PUT and DELETE record who, when,
 * before and after.
 */
export function createThresholdsHandler(
  getDeps: ApiDepsProvider<"thresholds" | "history" | "clock">,
  authenticate: Authenticator,
) {
  return createHttpApi(
    [
      {
        method: "GET",
        path: "/api/thresholds",
        handler: async () => {
          const { thresholds } = await getDeps();
          return reply(200, (await thresholds.list()).map(toRuleView));
        },
      },
      {
        method: "GET",
        path: "/api/thresholds/history",
        handler: async ({ query }) => {
          const filter = parseInput(historyQuerySchema, query);
          const scope = filter.scope ? parseScopePath(filter.scope).path : undefined;
          const { history } = await getDeps();
          return reply(200, await history.list({ scope, limit: filter.limit }));
        },
      },
      {
        method: "GET",
        path: "/api/thresholds/{proxy+}",
        handler: async ({ params }) => {
          const scope = parseScopePath(scopeOf(params));
          const { thresholds } = await getDeps();
          const [rule] = await thresholds.getMany([scope.key]);
          if (!rule) throw new NotFoundError(`no rule is stored for scope ${scope.path}`);
          return reply(200, toRuleView(rule));
        },
      },
      {
        method: "PUT",
        path: "/api/thresholds/{proxy+}",
        handler: async ({ params, body, principal }) => {
          const deps = await getDeps();
          const stored = await putRule(deps, { scopePath: scopeOf(params), body, by: principal.user });
          deps.onThresholdsChanged?.();
          return reply(200, stored);
        },
      },
      {
        method: "DELETE",
        path: "/api/thresholds/{proxy+}",
        handler: async ({ params, principal }) => {
          const deps = await getDeps();
          await deleteRule(deps, { scopePath: scopeOf(params), by: principal.user });
          deps.onThresholdsChanged?.();
          return reply(204);
        },
      },
    ],
    authenticate,
  );
}

export const handler = createThresholdsHandler(
  awsDeps("thresholds", "history", "clock"),
  createAuthenticator(verifierFromEnv),
);
