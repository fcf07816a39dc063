import http from "node:http";

export interface HttpRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client's address (loopback checks of `/local/session`). */
  remoteAddress?: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export type RouteHandler = (req: HttpRequest, params: Record<string, string>) => Promise<HttpResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/** JSON helper for route handlers. */
export function json(status: number, value: unknown): HttpResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}

/**
 * The local HTTP server on 127.0.0.1:3000: the operator API under `/api` (the Lambda handlers, `api-routes.ts`),
 * acknowledgement links (`/ack`), `/local/session` and, at `/`, the built console (`console-routes.ts`).
 * Services register routes (`/api/devices/:id`) before `listen`. 4xx messages are shown, 5xx details hidden.
 */
export class HttpRouter {
  private readonly routes: Route[] = [];
  private server?: http.Server;

  /**
   * Registers a route. `:name` matches one segment; a trailing `/*` matches the path itself and everything
   * under it (the mounted API handlers route further); method `ANY` matches every method.
   */
  add(method: string, path: string, handler: RouteHandler): void {
    const keys: string[] = [];
    const prefix = path.endsWith("/*");
    const source = (prefix ? path.slice(0, -2) : path)
      .split("/")
      .map((part) => {
        if (part.startsWith(":")) {
          keys.push(part.slice(1));
          return "([^/]+)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    const pattern = new RegExp(prefix ? `^${source}(?:/.*)?$` : `^${source}/?$`);
    this.routes.push({ method: method.toUpperCase(), pattern, keys, handler });
  }

  async handle(req: HttpRequest): Promise<HttpResponse> {
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(req.path);
      if (!match) continue;
      pathMatched = true;
      if (
        route.method !== "ANY" &&
        route.method !== req.method &&
        !(route.method === "GET" && req.method === "HEAD")
      )
        continue;
      const params: Record<string, string> = {};
      try {
        route.keys.forEach((key, i) => (params[key] = decodeURIComponent(match[i + 1])));
      } catch {
        return json(400, { error: "BadRequest", message: "malformed percent-encoding in the path" });
      }
      try {
        return await route.handler(req, params);
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status && status >= 400 && status < 500) {
          return json(status, { error: (error as Error).name, message: (error as Error).message });
        }
        process.stderr.write(`[http] ${req.method} ${req.path} failed: ${(error as Error).name}\n`);
        return json(500, { error: "InternalError", message: "Internal error" });
      }
    }
    return pathMatched
      ? json(405, { error: "MethodNotAllowed", message: `${req.method} not allowed on ${req.path}` })
      : json(404, { error: "NotFound", message: `No route for ${req.path}` });
  }

  listen(port: number, host: string): Promise<http.Server> {
    const server = http.createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        // Nothing a client sends may take the local runtime down: a request that fails outside a route's own
        // error handling (an unparsable URL, a handler bug) gets a 400/500 without details.
        const respond = (res: HttpResponse) => {
          try {
            outgoing.writeHead(res.status, res.headers ?? {});
            outgoing.end(incoming.method === "HEAD" ? undefined : res.body);
          } catch (error) {
            process.stderr.write(`[http] could not send the response: ${(error as Error).name}\n`);
            outgoing.destroy();
          }
        };
        let url: URL;
        try {
          url = new URL(incoming.url ?? "/", `http://${host}`);
        } catch {
          respond(json(400, { error: "BadRequest", message: "malformed request URL" }));
          return;
        }
        this.handle({
          method: (incoming.method ?? "GET").toUpperCase(),
          path: url.pathname,
          query: url.searchParams,
          headers: incoming.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          remoteAddress: incoming.socket.remoteAddress,
        }).then(respond, (error: Error) => {
          process.stderr.write(`[http] ${incoming.method} ${url.pathname} failed: ${error.name}\n`);
          respond(json(500, { error: "InternalError", message: "Internal error" }));
        });
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve(server));
    });
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  }
}
