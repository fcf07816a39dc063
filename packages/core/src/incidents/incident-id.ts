import { createHash } from "node:crypto";

/**
 * Incident ids are derived from the alert that opened the incident, so a retried "open" step computes the same
 * id and its writes stay idempotent. 20 hex digits (80 bits) of SHA-256.
 */
export function incidentIdFor(alertId: string): string {
  return `inc-${createHash("sha256").update(`incident\u0000${alertId}`).digest("hex").slice(0, 20)}`;
}
