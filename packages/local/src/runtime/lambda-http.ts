import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { HttpRequest, HttpResponse } from "./http-router.ts";

/**
 * The local HTTP server's request as the API Gateway v2 / Function URL event the HTTP handlers take on AWS, and
 * their result back as the router's response, so local mode runs the same handlers (the operator API, the ack links).
 */
export function toApiEvent(req: HttpRequest, routeKey: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const query = Object.fromEntries(req.query.entries());
  const rawQueryString = req.query.toString();
  const now = Date.now();
  return {
    version: "2.0",
    routeKey,
    rawPath: req.path,
    rawQueryString,
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      http: {
        method: req.method,
        path: req.path,
        protocol: "HTTP/1.1",
        sourceIp: req.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: `local-${now.toString(36)}`,
      routeKey,
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: req.body || undefined,
    isBase64Encoded: false,
  };
}

export function fromApiResult(result: APIGatewayProxyStructuredResultV2): HttpResponse {
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { status: result.statusCode ?? 200, headers, body: result.body ?? "" };
}
