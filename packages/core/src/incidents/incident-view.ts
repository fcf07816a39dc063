import type { Incident } from "./incident.ts";

/**
 * The external shape of an incident (`npx driftwatch incidents --json`, `GET /api/incidents`): the contract
 * fields `{id, deviceId, rule, state, tier, occurrences, openedAt, acknowledgedAt, acknowledgedBy, timeline}`
 * plus a few more. Internal fields (task tokens, dedupe sets) never appear.
 */
export interface IncidentView {
  id: string;
  deviceId: string;
  rule: string;
  state: Incident["state"];
  tier: number;
  occurrences: number;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  timeline: Incident["timeline"];
  kind: Incident["kind"];
  round: number;
  lastOccurrenceAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  policyId: string | null;
  summary: string;
  site: string | null;
  manufacturer: string | null;
  model: string | null;
}

export function toIncidentView(incident: Incident): IncidentView {
  return {
    id: incident.id,
    deviceId: incident.deviceId,
    rule: incident.rule,
    state: incident.state,
    tier: incident.tier,
    occurrences: incident.occurrences,
    openedAt: incident.openedAt,
    acknowledgedAt: incident.acknowledgedAt,
    acknowledgedBy: incident.acknowledgedBy,
    timeline: incident.timeline,
    kind: incident.kind,
    round: incident.round,
    lastOccurrenceAt: incident.lastOccurrenceAt,
    resolvedAt: incident.resolvedAt,
    resolvedBy: incident.resolvedBy,
    policyId: incident.policyId ?? null,
    summary: incident.summary,
    site: incident.site ?? null,
    manufacturer: incident.manufacturer ?? null,
    model: incident.model ?? null,
  };
}
