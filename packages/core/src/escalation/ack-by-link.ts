import type { NonceStore } from "../ports/nonce-store.ts";
import { acknowledgeIncident, type AcknowledgeOutcome, type IncidentDeps } from "../incidents/acknowledge.ts";
import { normalizeActor } from "../incidents/actor.ts";
import type { Incident } from "../incidents/incident.ts";
import type { AckClaims, AckLinkSigner } from "./ack-link.ts";
import { AckLinkUsedError } from "./errors.ts";

/**
 * Acknowledges through a signed link: verify signature and expiry, consume the nonce (single use; a conditional
 * write), then acknowledge. If acknowledging fails, the nonce is released so the person can simply retry.
 * `acknowledgedBy` is the name the person typed on the confirmation page, or else `link:<channel>`.
 */
export async function acknowledgeByLink(
  deps: IncidentDeps & { signer: AckLinkSigner; nonces: NonceStore },
  input: { token: string; actor?: string | null },
): Promise<{ outcome: AcknowledgeOutcome; incident: Incident; claims: AckClaims }> {
  const claims = deps.signer.verify(input.token, deps.clock.now());
  const actor = normalizeActor(input.actor, `link:${claims.c}`);
  if (!(await deps.nonces.consume(claims.n, claims.e))) {
    throw new AckLinkUsedError("this acknowledgement link has already been used");
  }
  try {
    const result = await acknowledgeIncident(deps, {
      incidentId: claims.i,
      actor,
      via: `link tier ${claims.t} round ${claims.r} ${claims.c}`,
    });
    return { ...result, claims };
  } catch (error) {
    await deps.nonces.release(claims.n).catch(() => undefined);
    throw error;
  }
}
