import type { Alert } from "../alerts/alert.ts";
import { incidentIdFor } from "./incident-id.ts";
import type { Incident } from "./incident.ts";

/** Short, PHI-free description of an alert for titles and notifications (ids, rule, metric names and values). */
export function summarizeAlert(alert: Alert): string {
  // The alert's own text names the rule and only the causing metrics, with values and expected ranges (issue 8).
  if (alert.causes.length > 0 || alert.kind === "silence") return alert.message.slice(0, 300);
  const top = [...alert.attribution]
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, 3)
    .map((a) => `${a.metric} ${a.direction}`);
  const score = alert.score === undefined ? "" : ` score ${alert.score.toFixed(2)}`;
  const detail = top.length ? ` (${top.join(", ")})` : "";
  const what = alert.rule === alert.kind ? alert.kind : `${alert.kind} ${alert.rule}`;
  return `${what} on ${alert.deviceId}${score}${detail}`.slice(0, 300);
}

/** The incident a new alert opens (state `open`, tier 0 until notified, one occurrence). */
export function newIncident(alert: Alert, executionName: string, now: Date): Incident {
  const at = now.toISOString();
  return {
    id: incidentIdFor(alert.alertId),
    deviceId: alert.deviceId,
    rule: alert.rule,
    kind: alert.kind,
    site: alert.site,
    manufacturer: alert.manufacturer,
    model: alert.model,
    state: "open",
    tier: 0,
    round: 1,
    occurrences: 1,
    openedAt: at,
    lastOccurrenceAt: at,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    executionName,
    openedByAlertId: alert.alertId,
    summary: summarizeAlert(alert),
    timeline: [{ at, type: "opened", detail: alert.alertId }],
  };
}
