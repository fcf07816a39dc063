import { ForbiddenError } from "./errors.ts";
import type { Principal } from "./principal.ts";

/** What a route does: reads (viewers and operators) or writes (operators only). */
export type Access = "read" | "write";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The access a request needs by its method: GET/HEAD/OPTIONS read, everything else writes. A route that posts
 * without changing anything (`POST /api/backtest`) declares `read` explicitly.
 */
export function accessOf(method: string): Access {
  return READ_METHODS.has(method.toUpperCase()) ? "read" : "write";
}

/** Whether `principal` may perform `access`. The ONE authorization rule of the operator API. */
export function isAllowed(principal: Principal, access: Access): boolean {
  if (access === "read") return principal.role === "operator" || principal.role === "viewer";
  return principal.role === "operator";
}

/** Throws `ForbiddenError` unless `principal` may perform `access`. */
export function authorize(principal: Principal, access: Access): void {
  if (!isAllowed(principal, access)) {
    throw new ForbiddenError(
      `${principal.role}s may not change anything: this request needs the operator role (group "operators")`,
    );
  }
}
