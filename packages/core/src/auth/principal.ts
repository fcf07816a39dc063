import { z } from "zod";
import { ForbiddenError, UnauthorizedError } from "./errors.ts";

/** Roles of the operator API: Cognito group `operators` → operator (read and write), `viewers` → viewer. */
export const roleSchema = z.enum(["operator", "viewer"]);
export type Role = z.infer<typeof roleSchema>;

/** Who is calling: a user name (e-mail, Cognito user name or subject) and a role. */
export const principalSchema = z.object({ user: z.string().min(1), role: roleSchema }).strict();
export type Principal = z.infer<typeof principalSchema>;

export const OPERATORS_GROUP = "operators";
export const VIEWERS_GROUP = "viewers";

/**
 * Groups of a `cognito:groups` claim. A verified JWT carries an array; API Gateway's HTTP API JWT authorizer
 * hands array claims to the Lambda flattened to a string, `"[operators viewers]"`; a plain string is one group
 * (or a comma-separated list).
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === "string");
  if (typeof claim !== "string") return [];
  const text = claim.trim().replace(/^\[/, "").replace(/\]$/, "");
  return text
    .split(/[\s,]+/)
    .map((g) => g.trim())
    .filter(Boolean);
}

/**
 * The principal of a verified token's claims: role from `cognito:groups` (operators wins over viewers), user from
 * `email`, `cognito:username`, `username` or `sub`. A valid token whose user is in neither group has no role in
 * Driftwatch: `ForbiddenError` (403) naming the groups needed.
 */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const groups = groupsOf(claims["cognito:groups"]);
  const role: Role | undefined = groups.includes(OPERATORS_GROUP)
    ? "operator"
    : groups.includes(VIEWERS_GROUP)
      ? "viewer"
      : undefined;
  const user = [claims.email, claims["cognito:username"], claims.username, claims.sub].find(
    (v): v is string => typeof v === "string" && v.trim() !== "",
  );
  if (!user) throw new UnauthorizedError("the token names no user (email, cognito:username or sub)");
  if (!role) {
    throw new ForbiddenError(
      `the token's user is in neither the "${OPERATORS_GROUP}" nor the "${VIEWERS_GROUP}" group`,
    );
  }
  return { user: user.trim(), role };
}
