import middy, { type MiddlewareObj } from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import httpEventNormalizer from "@middy/http-event-normalizer";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import httpRouterHandler from "@middy/http-router";
import httpSecurityHeaders from "@middy/http-security-headers";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { ZodError, type ZodTypeAny, type z } from "zod";
import { accessOf, authorize, type Access } from "@driftwatch/core/auth/authorize";
import type { Principal } from "@driftwatch/core/auth/principal";
import { DriftwatchError, ValidationError } from "@driftwatch/core/shared/errors";
import { describeIssue } from "@driftwatch/core/telemetry/safe-issues";
import { logger, withObservability } from "../../shared/observability.ts";
import type { Authenticator } from "./auth.ts";

/** What a route handler gets: the (normalized) event, the caller, path parameters, query and parsed body. */
export interface ApiRequest {
  event: APIGatewayProxyEventV2;
  principal: Principal;
  params: Record<string, string>;
  query: Record<string, string>;
  /** The JSON body (parsed), undefined without a body. */
  body: unknown;
}

export type ApiReply = APIGatewayProxyStructuredResultV2;

export interface ApiRoute {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** API Gateway style: `/api/devices/{deviceId}`; `{proxy+}` as the last segment takes the rest. */
  path: string;
  /** Defaults to the method's (`accessOf`): GET reads, others write. */
  access?: Access;
  handler: (request: ApiRequest) => Promise<ApiReply>;
}

/** A JSON reply. */
export function reply(statusCode: number, value?: unknown): ApiReply {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: value === undefined ? "" : JSON.stringify(value),
  };
}

/** 404 for a resource that does not exist. */
export class NotFoundError extends ValidationError {
  readonly statusCode = 404;
}

/** A 400 naming the field. */
export class BadRequestError extends ValidationError {
  readonly statusCode = 400;
}

/** A path parameter, percent-decoded (a malformed encoding is a 400 naming the parameter). */
export function pathParam(params: Record<string, string>, name: string): string {
  const raw = params[name] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(`${name} has malformed percent-encoding`, {
      issues: [{ path: name, message: "malformed percent-encoding" }],
    });
  }
}

const principals = new WeakMap<object, Principal>();

/** Authenticates before anything else runs, so an unauthenticated request learns nothing (401 first). */
function authentication(authenticate: Authenticator): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: async (request) => {
      principals.set(request.event, await authenticate(request.event));
    },
  };
}

const bodyErrors = new WeakMap<object, BadRequestError>();

/**
 * JSON bodies, when there is one (@middy/http-json-body-parser). A body that is not JSON is a 400 naming `body`,
 * raised by the router after the route's authorization: a viewer's write is a 403 whatever its body.
 */
function jsonBody(): MiddlewareObj<APIGatewayProxyEventV2> {
  const parser = httpJsonBodyParser({
    disableContentTypeError: true,
  }) as MiddlewareObj<APIGatewayProxyEventV2>;
  return {
    before: async (request) => {
      const body = request.event.body;
      if (body === undefined || body === null || body === "") return;
      const type = request.event.headers?.["content-type"] ?? "";
      if (!/^application\/(.+\+)?json($|;.+)/i.test(type)) {
        bodyErrors.set(
          request.event,
          new BadRequestError("body must be JSON sent with content-type: application/json", {
            issues: [{ path: "body", message: "not JSON" }],
          }),
        );
        return;
      }
      try {
        await parser.before?.(request as never);
      } catch (error) {
        bodyErrors.set(
          request.event,
          new BadRequestError("body is not valid JSON", {
            cause: error,
            issues: [{ path: "body", message: "not valid JSON" }],
          }),
        );
      }
    },
  };
}

/** Validates a request input (query, body): a failure is a 400 naming the fields. */
export function parseInput<S extends ZodTypeAny>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequestError("invalid request", { cause: result.error });
  return result.data;
}

/** Field-naming description of a zod error (values never echoed). */
export function describeZodError(error: ZodError): {
  message: string;
  issues: { path: string; message: string }[];
} {
  const issues = error.issues.map((issue) => {
    const described = describeIssue(issue);
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown field(s) ${issue.keys.map((k) => (described.path === "(root)" ? k : `${described.path}.${k}`)).join(", ")}`
        : described.message;
    return { path: described.path, message };
  });
  return {
    message: issues
      .map((i) =>
        i.message.startsWith("unknown field") || i.path === "(root)" ? i.message : `${i.path}: ${i.message}`,
      )
      .join("; "),
    issues,
  };
}

/**
 * Errors as the contract's bodies: 4xx `{error, message[, issues]}` naming the field; anything else 500
 * `{error: "InternalError", message: "internal error"}` (the details go to the log by name only).
 */
function errorBodies(): MiddlewareObj<APIGatewayProxyEventV2, ApiReply> {
  return {
    onError: async (request) => {
      const error = request.error as Error & { statusCode?: number; issues?: unknown };
      // A request input that failed its schema (`parseInput`, a core error caused by a ZodError, or a schema's
      // own `parse` in a route): 400 naming the fields (never the values).
      const zodError =
        error instanceof ZodError ? error : error?.statusCode === 400 ? error.cause : undefined;
      if (zodError instanceof ZodError) {
        request.response = reply(400, { error: "ValidationError", ...describeZodError(zodError) });
        return;
      }
      const status = error?.statusCode;
      if (typeof status === "number" && status >= 400 && status < 500) {
        const issues = Array.isArray(error.issues) && error.issues.length > 0 ? { issues: error.issues } : {};
        const name =
          status === 401
            ? "Unauthorized"
            : status === 403
              ? "Forbidden"
              : status === 404
                ? "NotFound"
                : error.name;
        request.response = reply(status, { error: name, message: error.message, ...issues });
        return;
      }
      // Driftwatch's own errors name the failed operation and the AWS error, never data: log their message too.
      logger.error("api request failed", {
        error: error?.name ?? "unknown",
        ...(error instanceof DriftwatchError ? { message: error.message, code: error.code } : {}),
      });
      request.response = reply(500, { error: "InternalError", message: "internal error" });
    },
  };
}

/**
 * The middy stack of every operator API handler: event normalizer, security headers, authentication (401),
 * JSON body parser (its 400 raised after authorization), error bodies, http-error-handler (last resort), Powertools, and @middy/http-router over
 * `routes`. Each route's access (read / write) is checked with core's `authorize` — the one authorization rule.
 */
export function createHttpApi(routes: readonly ApiRoute[], authenticate: Authenticator) {
  const router = httpRouterHandler({
    routes: routes.map((route) => ({
      method: route.method,
      path: route.path,
      handler: async (event: APIGatewayProxyEventV2): Promise<ApiReply> => {
        const principal = principals.get(event);
        if (!principal) throw new Error("authentication middleware did not run");
        authorize(principal, route.access ?? accessOf(route.method));
        const bodyError = bodyErrors.get(event);
        if (bodyError) throw bodyError;
        return route.handler({
          event,
          principal,
          params: (event.pathParameters ?? {}) as Record<string, string>,
          query: (event.queryStringParameters ?? {}) as Record<string, string>,
          body: event.body as unknown,
        });
      },
    })),
    notFoundResponse: ({ method, path }: { method: string; path: string }) => {
      throw new NotFoundError(`no route ${method} ${path}`);
    },
  } as never);
  return withObservability(
    middy<APIGatewayProxyEventV2, ApiReply, Error, Context>()
      .use(
        httpErrorHandler({
          logger: false,
          fallbackMessage: JSON.stringify({ error: "InternalError", message: "internal error" }),
        }) as MiddlewareObj,
      )
      .use(httpSecurityHeaders() as MiddlewareObj)
      .use(httpEventNormalizer() as MiddlewareObj)
      .use(errorBodies() as MiddlewareObj)
      .use(authentication(authenticate) as MiddlewareObj)
      .use(jsonBody() as MiddlewareObj)
      .handler(router as never),
  );
}
