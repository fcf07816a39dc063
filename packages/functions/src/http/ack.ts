import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { acknowledgeByLink } from "@driftwatch/core/escalation/ack-by-link";
import {
  AckLinkExpiredError,
  AckLinkInvalidError,
  AckLinkUsedError,
} from "@driftwatch/core/escalation/errors";
import { IncidentNotFoundError } from "@driftwatch/core/incidents/errors";
import { systemClock } from "@driftwatch/core/ports/clock";
import { ValidationError } from "@driftwatch/core/shared/errors";
import { ESCALATION_METRICS } from "@driftwatch/core/shared/metric-names";
import { lazy } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { awsNonces, awsSigner, awsStore, awsTokens, type DepsProvider } from "../stepfunctions/deps.ts";
import { bodyFields, escapeHtml, methodOf } from "./request.ts";

type Deps = DepsProvider<"store" | "clock" | "tokens" | "signer" | "nonces">;

function page(
  statusCode: number,
  title: string,
  message: string,
  form = "",
): APIGatewayProxyStructuredResultV2 {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Driftwatch</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}.code{color:#57606a;font-size:.9rem}label{display:block;margin:1rem 0 .3rem}
input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem}
</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${form}<p class="code">HTTP ${statusCode}</p></body></html>`;
  return {
    statusCode,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      // The confirmation form posts to this same URL (form-action 'self').
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    },
    body: html,
  };
}

/**
 * The acknowledgement link endpoint (`/ack?token=…`; a Lambda Function URL on AWS, the local HTTP server in local
 * mode). `GET` (and `HEAD`) only shows a confirmation page and acknowledges nothing — mail scanners and chat link
 * previews fetch links. The page's button `POST`s to the same URL (the token in the query or the form body, `by`
 * optionally naming the person; otherwise `link:<channel>`); a valid, unexpired, unused link then acknowledges the
 * incident and releases the escalation's wait with `SendTaskSuccess`. Replayed (409), expired (410), forged or
 * malformed (400) links get a clear page and change nothing.
 */
export function createAckHandler(getDeps: Deps) {
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const method = methodOf(event);
    if (method !== "GET" && method !== "HEAD" && method !== "POST")
      return page(405, "Method not allowed", "Use GET or POST.");
    const fields = method === "POST" ? bodyFields(event) : {};
    const token = fields.token ?? event.queryStringParameters?.token ?? "";
    const actor = fields.by ?? event.queryStringParameters?.by;
    if (method !== "POST") return confirmationPage(await getDeps(), token, actor);
    try {
      const { outcome, incident } = await acknowledgeByLink(await getDeps(), { token, actor });
      metrics.addMetric(ESCALATION_METRICS.ackLinksUsed, MetricUnit.Count, 1);
      logger.info("acknowledgement link", { incidentId: incident.id, outcome });
      if (outcome === "acknowledged") {
        return page(
          200,
          "Incident acknowledged",
          `Incident ${incident.id} on ${incident.deviceId} (${incident.rule}) was acknowledged by ${incident.acknowledgedBy} at ${incident.acknowledgedAt}. Escalation has stopped.`,
        );
      }
      if (outcome === "already-acknowledged") {
        return page(
          200,
          "Already acknowledged",
          `Incident ${incident.id} was already acknowledged by ${incident.acknowledgedBy} at ${incident.acknowledgedAt}.`,
        );
      }
      return page(200, "Already resolved", `Incident ${incident.id} was resolved at ${incident.resolvedAt}.`);
    } catch (error) {
      metrics.addMetric(ESCALATION_METRICS.ackLinksRefused, MetricUnit.Count, 1);
      logger.warn("acknowledgement link refused", { error: (error as Error).name });
      if (error instanceof AckLinkUsedError)
        return page(
          409,
          "Link already used",
          "This acknowledgement link has already been used. Each link works once; the incident's current state is in the console.",
        );
      if (error instanceof AckLinkExpiredError)
        return page(
          410,
          "Link expired",
          "This acknowledgement link has expired. Use a newer notification or the console to acknowledge.",
        );
      if (error instanceof AckLinkInvalidError)
        return page(
          400,
          "Invalid link",
          "This acknowledgement link is malformed or was not issued by Driftwatch.",
        );
      if (error instanceof IncidentNotFoundError)
        return page(404, "Incident not found", "The incident this link refers to does not exist.");
      if (error instanceof ValidationError) return page(400, "Invalid request", error.message);
      logger.error("acknowledgement failed", { error: (error as Error).name });
      return page(
        503,
        "Please try again",
        "The acknowledgement could not be recorded right now. The link is still valid; please try again.",
      );
    }
  };
  return withObservability(middy(handle));
}

/**
 * The GET page: checks the link (signature, expiry) without consuming it and offers a button that POSTs the token
 * to this same URL. Nothing is acknowledged and no nonce is used.
 */
async function confirmationPage(
  deps: Awaited<ReturnType<Deps>>,
  token: string,
  actor: string | undefined,
): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const claims = deps.signer.verify(token, deps.clock.now());
    const form = `<form method="post"><input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="by">Your name (recorded with the acknowledgement)</label>
<input id="by" name="by" autocomplete="name" maxlength="128" value="${escapeHtml(actor ?? "")}">
<button type="submit">Acknowledge incident</button></form>`;
    return page(
      200,
      "Acknowledge incident?",
      `Acknowledging incident ${claims.i} stops its escalation (tier ${claims.t}). Nothing has been acknowledged yet.`,
      form,
    );
  } catch (error) {
    if (error instanceof AckLinkExpiredError)
      return page(
        410,
        "Link expired",
        "This acknowledgement link has expired. Use a newer notification or the console to acknowledge.",
      );
    if (error instanceof AckLinkInvalidError || error instanceof ValidationError)
      return page(
        400,
        "Invalid link",
        "This acknowledgement link is malformed or was not issued by Driftwatch.",
      );
    throw error;
  }
}

export const handler = createAckHandler(
  lazy(async () => ({
    store: await awsStore(),
    clock: systemClock,
    tokens: await awsTokens(),
    signer: await awsSigner(),
    nonces: await awsNonces(),
  })),
);
