import type { APIGatewayProxyEventV2 } from "aws-lambda";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from "jose";
import { z } from "zod";
import { UnauthorizedError } from "@driftwatch/core/auth/errors";
import { principalFromClaims, type Principal } from "@driftwatch/core/auth/principal";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { lazy, optional, readConfig } from "../../shared/config.ts";

/** Verifies a bearer token and returns its claims (throws `UnauthorizedError`). */
export type TokenVerifier = (token: string) => Promise<Record<string, unknown>>;

/** Turns an API event into the calling principal (throws `UnauthorizedError` / `ForbiddenError`). */
export type Authenticator = (event: APIGatewayProxyEventV2) => Promise<Principal>;

export interface VerifierOptions {
  /** Expected `iss`. */
  issuer: string;
  /** Expected audience: the token's `aud` (ID tokens) or `client_id` (Cognito access tokens). */
  audience?: string;
  /** The signing keys: a JWKS URL (Cognito) or a key set (local mode's own key). */
  jwks: URL | JSONWebKeySet;
  /** Allowed clock skew, seconds (default 30). */
  clockToleranceSeconds?: number;
}

/** A jose-based verifier: signature against the JWKS, `iss`, `exp`/`nbf`, and the audience. */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const keys =
    options.jwks instanceof URL ? createRemoteJWKSet(options.jwks) : createLocalJWKSet(options.jwks);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        clockTolerance: options.clockToleranceSeconds ?? 30,
        algorithms: ["RS256", "ES256"],
      }));
    } catch (error) {
      const message =
        error instanceof joseErrors.JWTExpired
          ? "the token has expired"
          : error instanceof joseErrors.JWTClaimValidationFailed
            ? `the token's ${error.claim} claim is not accepted`
            : "the token is not valid";
      throw new UnauthorizedError(message, { cause: error });
    }
    if (options.audience !== undefined) {
      const aud = payload.aud;
      const audiences = Array.isArray(aud) ? aud : aud !== undefined ? [aud] : [];
      if (!audiences.includes(options.audience) && payload.client_id !== options.audience) {
        throw new UnauthorizedError("the token was issued for another client");
      }
    }
    return payload as Record<string, unknown>;
  };
}

/** The bearer token of an event's `Authorization` header. */
export function bearerToken(event: APIGatewayProxyEventV2): string {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  if (!header) throw new UnauthorizedError("missing Authorization: Bearer <token> header");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError("the Authorization header must be `Bearer <token>`");
  return match[1];
}

/**
 * The one authentication path of the operator API. On AWS the HTTP API's JWT authorizer has verified the token
 * and passes its claims in `requestContext.authorizer.jwt.claims`; otherwise (local mode, or a route without an
 * authorizer) the handler verifies the bearer token itself with `verify`. No verifier and no authorizer claims:
 * every request is refused (fail closed).
 */
export function createAuthenticator(
  verify: (() => Promise<TokenVerifier | undefined>) | undefined,
): Authenticator {
  return async (event) => {
    const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
      .authorizer?.jwt?.claims;
    if (claims) return principalFromClaims(claims);
    const verifier = await verify?.();
    if (!verifier) throw new UnauthorizedError("no token verification is configured for this API");
    return principalFromClaims(await verifier(bearerToken(event)));
  };
}

/**
 * The verifier from the environment, once per cold start:
 * - `AUTH_ISSUER` (Cognito: `https://cognito-idp.<region>.amazonaws.com/<poolId>`), `AUTH_AUDIENCE` (the app
 *   client id), `AUTH_JWKS_URL` (default `<issuer>/.well-known/jwks.json`);
 * - or, in local mode, `AUTH_LOCAL_JWKS`: the local instance's public key set (JSON), with `AUTH_ISSUER`.
 * Neither set: undefined (only requests with authorizer claims pass).
 */
export const verifierFromEnv = lazy(async (): Promise<TokenVerifier | undefined> => {
  const env = readConfig({
    AUTH_ISSUER: optional(),
    AUTH_AUDIENCE: optional(),
    AUTH_JWKS_URL: z.string().url().optional(),
    AUTH_LOCAL_JWKS: optional(),
  });
  if (!env.AUTH_ISSUER) return undefined;
  let jwks: URL | JSONWebKeySet;
  if (env.AUTH_LOCAL_JWKS) {
    try {
      jwks = JSON.parse(env.AUTH_LOCAL_JWKS) as JSONWebKeySet;
    } catch (error) {
      throw new ConfigurationError("AUTH_LOCAL_JWKS is not JSON", { cause: error });
    }
  } else {
    jwks = new URL(env.AUTH_JWKS_URL ?? `${env.AUTH_ISSUER.replace(/\/+$/, "")}/.well-known/jwks.json`);
  }
  return createTokenVerifier({ issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE, jwks });
});
