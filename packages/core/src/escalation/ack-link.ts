import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AckLinkExpiredError, AckLinkInvalidError } from "./errors.ts";

/**
 * One-click acknowledgement links: `<baseUrl>?token=<claims>.<mac>`, where claims are base64url JSON and mac is
 * HMAC-SHA256 over the claims part. Links expire (`e`, epoch seconds) and carry a random nonce that the
 * acknowledge handler consumes once (a conditional write), so a link works exactly once. No PHI: incident id,
 * tier, round, channel name only.
 */
export const ackClaimsSchema = z.object({
  v: z.literal(1),
  /** Incident id. */
  i: z.string().min(1).max(64),
  /** Tier number (1-based). */
  t: z.number().int().min(1),
  /** Round (1-based). */
  r: z.number().int().min(1),
  /** Channel the link was sent on. */
  c: z.string().min(1).max(80),
  /** Nonce, 128 random bits, base64url. */
  n: z.string().min(16).max(64),
  /** Expiry, epoch seconds. */
  e: z.number().int(),
});
export type AckClaims = z.infer<typeof ackClaimsSchema>;

export interface AckLinkSigner {
  /** Signs a new link for the notification; `now` in ms. */
  issue(
    target: { incidentId: string; tier: number; round: number; channel: string },
    now: number,
  ): { token: string; nonce: string; expiresAt: number };
  /** Checks signature and expiry; throws AckLinkInvalidError / AckLinkExpiredError. */
  verify(token: string, now: number): AckClaims;
}

export interface AckLinkSignerOptions {
  /** Signing keys, at least 32 bytes each: the first signs, all verify (rotation). */
  keys: readonly Uint8Array[];
  /** Link lifetime, seconds. */
  ttlSeconds: number;
  /** Nonce source (tests inject a fixed one). */
  nonce?: () => string;
}

const MAX_TOKEN_LENGTH = 1024;

export function createAckLinkSigner(options: AckLinkSignerOptions): AckLinkSigner {
  if (options.keys.length === 0 || options.keys.some((k) => k.length < 32)) {
    throw new AckLinkInvalidError("acknowledgement link keys must be at least 32 bytes");
  }
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
    throw new AckLinkInvalidError("acknowledgement link ttlSeconds must be a positive integer");
  }
  const nonce = options.nonce ?? (() => randomBytes(16).toString("base64url"));
  const mac = (key: Uint8Array, data: string) => createHmac("sha256", key).update(data).digest();

  return {
    issue(target, now) {
      const claims: AckClaims = {
        v: 1,
        i: target.incidentId,
        t: target.tier,
        r: target.round,
        c: target.channel,
        n: nonce(),
        e: Math.floor(now / 1000) + options.ttlSeconds,
      };
      const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
      const token = `${body}.${mac(options.keys[0], body).toString("base64url")}`;
      return { token, nonce: claims.n, expiresAt: claims.e };
    },

    verify(token, now) {
      if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new AckLinkInvalidError("acknowledgement link is missing or malformed");
      }
      const parts = token.split(".");
      if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]+$/.test(parts[1])) {
        throw new AckLinkInvalidError("acknowledgement link is malformed");
      }
      const given = Buffer.from(parts[1], "base64url");
      // Base64 tolerates non-canonical trailing bits; accept exactly one spelling of each MAC.
      if (given.toString("base64url") !== parts[1])
        throw new AckLinkInvalidError("acknowledgement link is malformed");
      const valid = options.keys.some((key) => {
        const expected = mac(key, parts[0]);
        return expected.length === given.length && timingSafeEqual(expected, given);
      });
      if (!valid) throw new AckLinkInvalidError("acknowledgement link signature is not valid");
      let claims: AckClaims;
      try {
        claims = ackClaimsSchema.parse(JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")));
      } catch (cause) {
        throw new AckLinkInvalidError("acknowledgement link claims are malformed", { cause });
      }
      if (Math.floor(now / 1000) >= claims.e) {
        throw new AckLinkExpiredError("acknowledgement link has expired");
      }
      return claims;
    },
  };
}

/** The URL people follow: `<baseUrl>?token=…` (baseUrl is the acknowledge endpoint, e.g. `http://127.0.0.1:3000/ack`). */
export function ackUrl(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set("token", token);
  return url.toString();
}
