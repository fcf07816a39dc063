import path from "node:path";
import type { Role } from "@driftwatch/core/auth/principal";
import { readLocalConfig } from "../runtime/config.ts";
import { loadLocalIdentity, LocalKeyMissingError } from "../runtime/local-identity.ts";

/** Something the user can fix (no instance, refused request); the CLI prints the message without a stack. */
export class CliError extends Error {
  override name = "CliError";
}

export interface ApiCallOptions {
  /** Base URL of the instance (default http://127.0.0.1:$HTTP_PORT). */
  url?: string;
  /** Who the call is signed as (default $USER or local-operator) and in which role (default operator). */
  user?: string;
  role?: Role;
  body?: unknown;
  query?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export function baseUrl(option?: string): string {
  if (option) return option.replace(/\/+$/, "");
  const config = readLocalConfig();
  return `http://${config.host}:${config.httpPort}`;
}

/**
 * The CLI's bearer token: `$DRIFTWATCH_TOKEN` when set (e.g. a viewer token from `driftwatch token`), else a
 * short-lived token signed with the local instance's key (`$DRIFTWATCH_DATA_DIR/keys/`): the CLI signs its own
 * calls as the same machine user that runs the instance.
 */
export async function cliToken(options: { user?: string; role?: Role } = {}): Promise<string> {
  if (process.env.DRIFTWATCH_TOKEN) return process.env.DRIFTWATCH_TOKEN;
  const identity = await loadLocalIdentity(path.join(readLocalConfig().dataDir, "keys"), { create: false });
  const user = options.user || process.env.USER || "local-operator";
  return (await identity.sign({ user, role: options.role ?? "operator", ttlSeconds: 300 })).token;
}

/** Calls the operator API of the running local instance, signed; returns the parsed JSON (undefined for 204). */
export async function apiCall<T = unknown>(
  method: string,
  route: string,
  options: ApiCallOptions = {},
): Promise<T> {
  const base = baseUrl(options.url);
  const query = new URLSearchParams(
    Object.entries(options.query ?? {}).filter(
      (e): e is [string, string] => e[1] !== undefined && e[1] !== "",
    ),
  ).toString();
  const url = `${base}${route}${query ? `?${query}` : ""}`;
  const headers: Record<string, string> = { accept: "application/json" };
  // Without a key (no instance ever ran with this data dir) the call still goes out, unsigned: the answer is then
  // "no instance running" (connection refused) or the 401 explained with the key's absence.
  let keyProblem: string | undefined;
  try {
    headers.authorization = `Bearer ${await cliToken(options)}`;
  } catch (error) {
    if (!(error instanceof LocalKeyMissingError)) throw error;
    keyProblem = error.message;
  }
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET") {
      throw new CliError(
        `no Driftwatch local instance is running at ${base} (start one with \`npm start\`; set HTTP_PORT or --url if it listens elsewhere)`,
      );
    }
    throw new CliError(`could not reach ${base}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  if (response.status === 401 && keyProblem) throw new CliError(keyProblem);
  if (!response.ok) {
    const details = body as { message?: string; issues?: { path: string; message: string }[] } | undefined;
    throw new CliError(`${method} ${route} failed (HTTP ${response.status}): ${details?.message ?? text}`);
  }
  return body as T;
}

/** A plain text table: header row, columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (cell ?? "").padEnd(widths[c]))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
