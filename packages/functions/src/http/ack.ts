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
import { lazy } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { awsNonces, awsSigner, awsStore, awsTokens, type DepsProvider } from "../stepfunctions/deps.ts";
import { bodyFields, escapeHtml, methodOf } from "./request.ts";

type Deps = DepsProvider<"store" | "clock" | "tokens" | "signer" | "nonces">;

function page(statusCode: number, title: string, message: string): APIGatewayProxyStructuredResultV2 {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Driftwatch</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}.code{color:#57606a;font-size:.9rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p class="code">HTTP ${statusCode}</p></body></html>`;
  return {
    statusCode,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    },
    body: html,
  };
}

/**
 * The acknowledgement link endpoint (`GET` or `POST /ack?token=…`; a Lambda Function URL on AWS, the local HTTP
 * server in local mode). A valid, unexpired, unused link acknowledges the incident (`by` in the query or body
 * names the person; otherwise `link:<channel>`) and releases the escalation's wait with `SendTaskSuccess`.
 * Replayed (409), expired (410), forged or malformed (400) links get a clear page and change nothing. `HEAD`
 * never acknowledges (link previews).
 */
export function createAckHandler(getDeps: Deps) {
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const method = methodOf(event);
    if (method === "HEAD")
      return page(200, "Acknowledge incident", "Open this link to acknowledge the incident.");
    if (method !== "GET" && method !== "POST") return page(405, "Method not allowed", "Use GET or POST.");
    const fields = method === "POST" ? bodyFields(event) : {};
    const token = fields.token ?? event.queryStringParameters?.token ?? "";
    const actor = fields.by ?? event.queryStringParameters?.by;
    try {
      const { outcome, incident } = await acknowledgeByLink(await getDeps(), { token, actor });
      metrics.addMetric("AckLinksUsed", MetricUnit.Count, 1);
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
      metrics.addMetric("AckLinksRefused", MetricUnit.Count, 1);
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

export const handler = createAckHandler(
  lazy(async () => ({
    store: await awsStore(),
    clock: systemClock,
    tokens: await awsTokens(),
    signer: await awsSigner(),
    nonces: await awsNonces(),
  })),
);
