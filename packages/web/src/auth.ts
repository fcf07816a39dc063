import { config, usesCognito } from "./config.ts";

/**
 * Browser sign-in (ADR 0802). The token lives in memory only (this module), never in localStorage.
 * - `#token=<jwt>` in the URL: use that token (tests, or a viewer token from `npx driftwatch token --role viewer`);
 *   the fragment is never sent to a server and is removed from the address bar at once.
 * - A Cognito pool configured (AWS): the hosted UI with the authorization-code flow and PKCE.
 * - Otherwise (local mode): GET /local/session, which the local runtime answers for loopback clients only.
 */
export type Role = "operator" | "viewer";

export interface Session {
  token: string;
  expiresAt: number | null;
  source: "fragment" | "cognito" | "local";
}

export class SignInError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SignInError";
  }
}

let current: Session | null = null;

export function currentSession(): Session | null {
  return current;
}

function jwtExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as {
      exp?: number;
    };
    return typeof payload.exp === "number" ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

function tokenFromFragment(): string | null {
  const match = /^#token=([^&]+)/.exec(window.location.hash);
  if (!match) return null;
  history.replaceState(null, "", `${window.location.pathname}${window.location.search}#/`);
  return decodeURIComponent(match[1]);
}

async function localSession(): Promise<Session> {
  const res = await fetch(`${config.apiUrl}/local/session`, { headers: { accept: "application/json" } });
  if (!res.ok) {
    throw new SignInError(
      res.status === 403
        ? "The local sign-in answers only browsers on this machine (127.0.0.1). Open the console there, or pass a token in the URL as #token=…"
        : `The local runtime refused to sign in (HTTP ${res.status}).`,
    );
  }
  const body = (await res.json()) as { token: string; expiresAt?: string };
  return {
    token: body.token,
    expiresAt: body.expiresAt ? Date.parse(body.expiresAt) : jwtExpiry(body.token),
    source: "local",
  };
}

// ---- Cognito hosted UI, authorization code + PKCE ----
const VERIFIER_KEY = "driftwatch.pkce";

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri(): string {
  return `${window.location.origin}${window.location.pathname}`;
}

async function startCognitoSignIn(): Promise<never> {
  if (!config.cognitoDomain)
    throw new SignInError("VITE_COGNITO_DOMAIN is not set: the console cannot reach the sign-in page.");
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  // Only the one-time PKCE verifier survives the redirect (sessionStorage, this tab); never a token.
  sessionStorage.setItem(VERIFIER_KEY, JSON.stringify({ verifier, state, hash: window.location.hash }));
  const url = new URL(`${config.cognitoDomain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.userPoolClientId,
    redirect_uri: redirectUri(),
    scope: "openid email profile",
    code_challenge_method: "S256",
    code_challenge: challenge,
    state,
  }).toString();
  window.location.assign(url.toString());
  return new Promise<never>(() => {});
}

async function finishCognitoSignIn(code: string, state: string | null): Promise<Session> {
  const saved = sessionStorage.getItem(VERIFIER_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  if (!saved)
    throw new SignInError("The sign-in answer arrived without a pending sign-in; reload to sign in again.");
  const {
    verifier,
    state: expected,
    hash,
  } = JSON.parse(saved) as { verifier: string; state: string; hash: string };
  if (state !== expected)
    throw new SignInError(
      "The sign-in answer does not match this tab's request (state); reload to sign in again.",
    );
  const res = await fetch(`${config.cognitoDomain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.userPoolClientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }).toString(),
  });
  if (!res.ok)
    throw new SignInError(`Cognito refused the sign-in code (HTTP ${res.status}); reload to sign in again.`);
  const body = (await res.json()) as { id_token: string; access_token: string; expires_in: number };
  history.replaceState(null, "", `${window.location.pathname}${hash || "#/"}`);
  // The id token carries `email` and `cognito:groups`, which the API's authorizer reads.
  return { token: body.id_token, expiresAt: Date.now() + body.expires_in * 1000, source: "cognito" };
}

async function cognitoSession(): Promise<Session> {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code");
  if (code) return finishCognitoSignIn(code, params.get("state"));
  return startCognitoSignIn();
}

/** Signs in once at start-up. */
export async function signIn(): Promise<Session> {
  const fragment = tokenFromFragment();
  if (fragment) current = { token: fragment, expiresAt: jwtExpiry(fragment), source: "fragment" };
  else current = usesCognito() ? await cognitoSession() : await localSession();
  return current;
}

/** A fresh token when the current one is about to expire or was refused (local: new session; AWS: sign in again). */
export async function renew(): Promise<Session> {
  if (current?.source === "local") {
    current = await localSession();
    return current;
  }
  if (current?.source === "cognito") return startCognitoSignIn();
  throw new SignInError(
    "The token given in the URL was refused or has expired; open the console with a fresh one.",
  );
}

export async function bearer(): Promise<string> {
  if (!current) throw new SignInError("not signed in");
  if (current.expiresAt !== null && current.expiresAt - Date.now() < 30_000) await renew();
  return current.token;
}
