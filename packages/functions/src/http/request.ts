import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** Method of an HTTP API / Function URL event. */
export function methodOf(event: APIGatewayProxyEventV2): string {
  return (event.requestContext?.http?.method ?? "GET").toUpperCase();
}

export function bodyText(event: APIGatewayProxyEventV2): string {
  if (!event.body) return "";
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}

/** Fields of a form-encoded or JSON body (strings only). */
export function bodyFields(event: APIGatewayProxyEventV2): Record<string, string> {
  const text = bodyText(event).trim();
  if (!text) return {};
  const type = (event.headers?.["content-type"] ?? event.headers?.["Content-Type"] ?? "").toLowerCase();
  if (type.includes("json") || text.startsWith("{")) {
    try {
      const value = JSON.parse(text) as unknown;
      if (value && typeof value === "object" && !Array.isArray(value)) {
        return Object.fromEntries(
          Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === "string") as [
            string,
            string,
          ][],
        );
      }
    } catch {
      return {};
    }
    return {};
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}
