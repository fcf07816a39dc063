import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { systemClock } from "@driftwatch/core/ports/clock";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { DEFAULT_STUCK_READINGS } from "@driftwatch/core/scoring/stuck-tracker";
import { DynamoDeviceCatalog } from "@driftwatch/functions/adapters/dynamo-device-catalog";
import { DynamoDeviceRegistry } from "@driftwatch/functions/adapters/dynamo-device-registry";
import { DynamoMetricsStore } from "@driftwatch/functions/adapters/dynamo-metrics-store";
import {
  DynamoThresholdsHistory,
  DynamoThresholdsStore,
} from "@driftwatch/functions/adapters/dynamo-thresholds-store";
import { createDevicesHandler } from "@driftwatch/functions/http/devices";
import { createIncidentsHandler } from "@driftwatch/functions/http/incidents";
import { createMeHandler } from "@driftwatch/functions/http/me";
import { createMetricsHandler } from "@driftwatch/functions/http/metrics";
import {
  createAuthenticator,
  createTokenVerifier,
  type Authenticator,
} from "@driftwatch/functions/http/shared/auth";
import type { ApiDeps } from "@driftwatch/functions/http/shared/deps";
import { createThresholdsHandler } from "@driftwatch/functions/http/thresholds";
import { tables } from "@driftwatch/functions/shared/tables";
import { createLocalBacktestHandler } from "../lake/local-backtest.ts";
import type { LocalContext } from "./context.ts";
import { json, type HttpRequest, type HttpResponse } from "./http-router.ts";
import { createLambdaContext } from "./lambda-context.ts";
import { fromApiResult, toApiEvent } from "./lambda-http.ts";
import { LOCAL_AUDIENCE, LOCAL_ISSUER, loadLocalIdentity, type LocalIdentity } from "./local-identity.ts";

type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

/** Mounts a Lambda handler on a local route: the request becomes its event, its result the response. */
export function mountLambda(name: string, handler: ApiHandler) {
  return async (req: HttpRequest): Promise<HttpResponse> =>
    fromApiResult(
      (await handler(
        toApiEvent(req, `${req.method} ${req.path}`),
        createLambdaContext({ functionName: `driftwatch-local-${name}`, timeoutMs: 30_000 }),
      )) as APIGatewayProxyStructuredResultV2,
    );
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * `GET /local/session`: a token for the local operator, for the console opened on this machine (no sign-in
 * step). Only for loopback clients, only with a loopback Host header (a page served by another site cannot read
 * it — no CORS headers — nor reach it through DNS rebinding), and never for a cross-site fetch.
 */
function sessionRoute(identity: LocalIdentity, context: LocalContext) {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    const host = String(req.headers.host ?? "").replace(/:\d+$/, "");
    const site = String(req.headers["sec-fetch-site"] ?? "none");
    if (
      !LOOPBACK.has(req.remoteAddress ?? "") ||
      !["127.0.0.1", "localhost", "[::1]"].includes(host) ||
      !["same-origin", "none"].includes(site)
    ) {
      return json(403, {
        error: "Forbidden",
        message: "the local session is only given to this machine's own console",
      });
    }
    const user = process.env.DRIFTWATCH_LOCAL_USER || "local-operator";
    const { token, expiresAt } = await identity.sign({ user, role: "operator" });
    context.log("http", `local session issued to ${user}`);
    return {
      status: 200,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      body: JSON.stringify({ token, user, role: "operator", expiresAt }),
    };
  };
}

/**
 * The operator API of local mode: the SAME Lambda handlers as the HTTP API stack (packages/functions/src/http),
 * with local adapters (dynalite tables, the escalation service's incident store and task tokens) and the local
 * identity's key for token verification. Routes as in docs/api.md; plus `/local/session`.
 */
export async function registerApiRoutes(context: LocalContext): Promise<LocalIdentity> {
  const storage = context.storage;
  const escalation = context.incidents;
  if (!storage) throw new ConfigurationError("the API needs the storage service");
  const identity = await loadLocalIdentity(storage.keysDir);
  const verifier = createTokenVerifier({
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    jwks: identity.jwks,
  });
  const authenticate: Authenticator = createAuthenticator(async () => verifier);
  const names = storage.tableNames;
  const missing = (what: string) => {
    throw new ConfigurationError(`${what} is not running in this local instance`);
  };
  const deps: Omit<ApiDeps, "incidents" | "tokens"> = {
    devices: new DynamoDeviceRegistry(storage.dynamo, names[tables.devices.envVar]),
    catalog: new DynamoDeviceCatalog(
      storage.dynamo,
      names[tables.devices.envVar],
      names[tables.metrics.envVar],
    ),
    metrics: new DynamoMetricsStore(storage.dynamo, names[tables.metrics.envVar]),
    thresholds: new DynamoThresholdsStore(storage.dynamo, names[tables.thresholds.envVar], (scope) =>
      context.log("api", `invalid threshold rule ignored: ${scope}`),
    ),
    history: new DynamoThresholdsHistory(storage.dynamo, names[tables.thresholdHistory.envVar]),
    clock: systemClock,
    defaults: {
      silenceWindows: Number(process.env.DRIFTWATCH_SILENCE_WINDOWS || 3),
      stuckReadings: DEFAULT_STUCK_READINGS,
    },
    onThresholdsChanged: () => context.thresholdsChanged?.forEach((listener) => listener()),
    onDevicesImported: (ids) => {
      context.status.inc("registry.imported", ids.length);
      context.log("api", `imported ${ids.length} device(s)`);
      storage.notifyDevicesImported(ids);
    },
  };
  const full = async (): Promise<ApiDeps> => ({
    ...deps,
    incidents: escalation?.store ?? missing("the escalation service"),
    tokens: escalation?.tokens ?? missing("the escalation service"),
  });
  const http = context.http;
  const me = mountLambda("me", createMeHandler(authenticate));
  const metrics = mountLambda("metrics", createMetricsHandler(full, authenticate));
  const devices = mountLambda("devices", createDevicesHandler(full, authenticate));
  const thresholds = mountLambda("thresholds", createThresholdsHandler(full, authenticate));
  const incidents = mountLambda("incidents", createIncidentsHandler(full, authenticate));
  http.add("ANY", "/api/me", me);
  http.add("ANY", "/api/devices/:deviceId/metrics", metrics);
  http.add("ANY", "/api/devices/*", devices);
  http.add("ANY", "/api/thresholds/*", thresholds);
  http.add("ANY", "/api/incidents/*", incidents);
  http.add(
    "ANY",
    "/api/backtest",
    mountLambda("backtest", createLocalBacktestHandler(context, authenticate)),
  );
  http.add("GET", "/local/session", sessionRoute(identity, context));
  // Any other path under /api is a JSON 404 (as API Gateway answers an unknown route), never the console's page.
  http.add("ANY", "/api/*", async (req) =>
    json(404, { error: "NotFound", message: `no route ${req.method} ${req.path}` }),
  );
  return identity;
}
