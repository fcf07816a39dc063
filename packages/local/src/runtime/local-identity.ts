import fs from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JSONWebKeySet } from "jose";
import type { Role } from "@driftwatch/core/auth/principal";
import { ConfigurationError } from "@driftwatch/core/shared/errors";

/** `iss` and `aud` of local tokens (the handlers verify both, as they verify Cognito's on AWS). */
export const LOCAL_ISSUER = "driftwatch-local";
export const LOCAL_AUDIENCE = "driftwatch-local-api";
const KEY_FILE = "api-signing.jwk.json";

/** The CLI found no key to sign with (no local instance has run with this data dir). */
export class LocalKeyMissingError extends ConfigurationError {}
const ALG = "ES256";

export interface LocalIdentity {
  /** The public key set the handlers verify against. */
  jwks: JSONWebKeySet;
  /** A token for `user` in role `role` (Cognito-shaped claims: `cognito:groups`, `cognito:username`). */
  sign(input: {
    user: string;
    role: Role;
    ttlSeconds?: number;
  }): Promise<{ token: string; expiresAt: string }>;
}

/**
 * The local instance's signing key (ES256, `$DATA_DIR/keys/api-signing.jwk.json`, mode 0600), created on first use.
 * The running instance verifies with its public half; `driftwatch token` and the CLI's own calls sign with it —
 * they run as the same user on the same machine, which is what local mode trusts (see ADR 0800).
 */
export async function loadLocalIdentity(
  keysDir: string,
  options: { create?: boolean } = {},
): Promise<LocalIdentity> {
  const file = path.join(keysDir, KEY_FILE);
  if (options.create === false && !fs.existsSync(file)) {
    throw new LocalKeyMissingError(
      `no local signing key in ${keysDir}: start the local instance first (\`npm start\`), or set DRIFTWATCH_DATA_DIR to its data dir`,
    );
  }
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), alg: ALG, kid: `local-${Date.now().toString(36)}` };
    try {
      fs.writeFileSync(file, JSON.stringify(jwk), { flag: "wx", mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error; // another process won the race
    }
  }
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(fs.readFileSync(file, "utf8")) as JWK;
  } catch (error) {
    throw new ConfigurationError(`local signing key ${file} is unreadable (delete it to regenerate)`, {
      cause: error,
    });
  }
  const { d: _private, ...publicJwk } = privateJwk;
  const key = await importJWK(privateJwk, ALG);
  return {
    jwks: { keys: [{ ...publicJwk, use: "sig" }] },
    async sign({ user, role, ttlSeconds = 12 * 3600 }) {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({
        "cognito:username": user,
        "cognito:groups": [role === "operator" ? "operators" : "viewers"],
        token_use: "id",
      })
        .setProtectedHeader({ alg: ALG, kid: privateJwk.kid })
        .setSubject(user)
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(key);
      return { token, expiresAt: new Date((now + ttlSeconds) * 1000).toISOString() };
    },
  };
}
