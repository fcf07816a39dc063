import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ackUrl, createAckLinkSigner } from "../../src/escalation/ack-link.ts";
import { AckLinkExpiredError, AckLinkInvalidError, AckLinkUsedError } from "../../src/escalation/errors.ts";
import { acknowledgeByLink } from "../../src/escalation/ack-by-link.ts";
import { openOrFold } from "../../src/incidents/open-or-fold.ts";
import type { NonceStore } from "../../src/ports/nonce-store.ts";
import { fixedClock, MemoryIncidentStore, RecordingTaskTokens } from "../../testing/index.ts";

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(9);
const target = { incidentId: "inc-1", tier: 2, round: 1, channel: "sns:tier-2" };
const t0 = Date.parse("2026-01-01T00:00:00Z");

describe("acknowledgement links", () => {
  it("sign and verify claims with an expiry", () => {
    const signer = createAckLinkSigner({ keys: [key], ttlSeconds: 3600 });
    const link = signer.issue(target, t0);
    const claims = signer.verify(link.token, t0 + 1000);
    expect(claims).toMatchObject({
      i: "inc-1",
      t: 2,
      r: 1,
      c: "sns:tier-2",
      n: link.nonce,
      e: t0 / 1000 + 3600,
    });
    expect(link.nonce.length).toBeGreaterThanOrEqual(16);
    expect(ackUrl("http://127.0.0.1:3000/ack", link.token)).toBe(
      `http://127.0.0.1:3000/ack?token=${link.token}`,
    );
  });

  it("refuse expired links", () => {
    const signer = createAckLinkSigner({ keys: [key], ttlSeconds: 60 });
    const { token } = signer.issue(target, t0);
    expect(() => signer.verify(token, t0 + 60_000)).toThrow(AckLinkExpiredError);
  });

  it("refuse any tampering with claims or signature, and other keys", () => {
    const signer = createAckLinkSigner({ keys: [key], ttlSeconds: 60 });
    const { token } = signer.issue(target, t0);
    const [body, mac] = token.split(".");
    const forgedBody = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), i: "inc-2" }),
    ).toString("base64url");
    expect(() => signer.verify(`${forgedBody}.${mac}`, t0)).toThrow(AckLinkInvalidError);
    expect(() => createAckLinkSigner({ keys: [otherKey], ttlSeconds: 60 }).verify(token, t0)).toThrow(
      AckLinkInvalidError,
    );
    for (const bad of ["", "abc", "a.b.c", `${body}.`, `${body}.${mac}x`, "x".repeat(5000)]) {
      expect(() => signer.verify(bad, t0)).toThrow(AckLinkInvalidError);
    }
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(..."ABCabc012_-"), (i, ch) => {
        fc.pre(token[i] !== ch && token[i] !== ".");
        const mutated = token.slice(0, i) + ch + token.slice(i + 1);
        expect(() => signer.verify(mutated, t0)).toThrow();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it("verify links of the previous key during a rotation", () => {
    const old = createAckLinkSigner({ keys: [otherKey], ttlSeconds: 60 }).issue(target, t0);
    const rotated = createAckLinkSigner({ keys: [key, otherKey], ttlSeconds: 60 });
    expect(rotated.verify(old.token, t0).i).toBe("inc-1");
  });

  it("work once: a replay is refused, a failed acknowledgement releases the nonce", async () => {
    const store = new MemoryIncidentStore();
    const tokens = new RecordingTaskTokens();
    const clock = fixedClock(t0);
    const used = new Set<string>();
    const nonces: NonceStore = {
      consume: async (n) => (used.has(n) ? false : (used.add(n), true)),
      release: async (n) => void used.delete(n),
    };
    const signer = createAckLinkSigner({ keys: [key], ttlSeconds: 3600 });
    const deps = { store, tokens, clock, signer, nonces };
    const alert = {
      alertId: "a1",
      kind: "anomaly" as const,
      rule: "anomaly",
      deviceId: "d1",
      ts: "",
      windowStart: "",
      metrics: {},
      attribution: [],
      causes: [],
      message: "",
    };
    const { incidentId } = await openOrFold(deps, alert, "a1");
    const link = signer.issue({ incidentId, tier: 1, round: 1, channel: "outbox" }, clock.now());

    const missing = signer.issue(
      { incidentId: "inc-nope", tier: 1, round: 1, channel: "outbox" },
      clock.now(),
    );
    await expect(acknowledgeByLink(deps, { token: missing.token })).rejects.toThrow(/not found/);
    expect(used.has(missing.nonce)).toBe(false);

    const result = await acknowledgeByLink(deps, { token: link.token });
    expect(result.outcome).toBe("acknowledged");
    expect(result.incident.acknowledgedBy).toBe("link:outbox");
    await expect(acknowledgeByLink(deps, { token: link.token })).rejects.toThrow(AckLinkUsedError);

    const second = signer.issue({ incidentId, tier: 2, round: 1, channel: "outbox" }, clock.now());
    expect((await acknowledgeByLink(deps, { token: second.token, actor: "  Lee <b>  " })).outcome).toBe(
      "already-acknowledged",
    );
  });
});
