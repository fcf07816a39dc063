import type { Alert } from "../alerts/alert.ts";
import type { ScoredRecord } from "../scoring/scored-record.ts";

/** One incident a rule set would have opened: alerts of one device and rule folded while it stayed open. */
export interface BacktestIncident {
  deviceId: string;
  rule: string;
  openedAt: string;
  lastOccurrenceAt: string;
  occurrences: number;
}

export interface RuleSetReport {
  /** Alerts raised (escalations the scoring path would have started) with event time in the range. */
  alerts: number;
  byRule: Record<string, number>;
  /** Alerts per UTC hour (`YYYY-MM-DDTHH:00:00.000Z`), hours without alerts left out. */
  byHour: Record<string, number>;
  /** Alerts per UTC day (`YYYY-MM-DD`). */
  byDay: Record<string, number>;
  /** Incidents after folding repeated alerts of one device and rule (each one pages once). */
  incidents: number;
  /** The first incidents, in time order (at most `MAX_LISTED_INCIDENTS`). */
  incidentList: BacktestIncident[];
  /** Readings in the range that raised at least one rule. */
  readingsInvolved: number;
  /** Pages (incidents opened) per hour of the range. */
  pagesPerHour: number;
  /** Set when this rule set would page more than once an hour. */
  noiseWarning: string | null;
}

export const MAX_LISTED_INCIDENTS = 100;

export interface ReportOptions {
  fromMs: number;
  toMs: number;
  /**
   * How long an incident stays open after its last occurrence (the escalation's quiet period before it resolves
   * itself): a later alert of the same device and rule within it folds into it. Default 1 hour.
   */
  quietMs?: number;
}

/** Summarizes what one rule set raised over a range (alerts outside `[fromMs, toMs)` are warm-up and not counted). */
export function summarize(
  alerts: readonly Alert[],
  /** The scored readings (only `ts` and `rules` are read; readings no rule found anomalous may be left out). */
  scored: readonly Pick<ScoredRecord, "ts" | "rules">[],
  options: ReportOptions,
): RuleSetReport {
  const { fromMs, toMs } = options;
  const quietMs = options.quietMs ?? 3_600_000;
  const inRange = alerts
    .map((alert) => ({ alert, ms: Date.parse(alert.ts) }))
    .filter(({ ms }) => ms >= fromMs && ms < toMs)
    .sort((a, b) => a.ms - b.ms);
  const byRule: Record<string, number> = {};
  const byHour: Record<string, number> = {};
  const byDay: Record<string, number> = {};
  const open = new Map<string, BacktestIncident & { lastMs: number }>();
  const incidents: BacktestIncident[] = [];
  for (const { alert, ms } of inRange) {
    byRule[alert.rule] = (byRule[alert.rule] ?? 0) + 1;
    const iso = new Date(ms).toISOString();
    const hour = `${iso.slice(0, 13)}:00:00.000Z`;
    byHour[hour] = (byHour[hour] ?? 0) + 1;
    byDay[iso.slice(0, 10)] = (byDay[iso.slice(0, 10)] ?? 0) + 1;
    const key = `${alert.deviceId}\u0000${alert.rule}`;
    const current = open.get(key);
    if (current && ms - current.lastMs <= quietMs) {
      current.occurrences += 1;
      current.lastMs = ms;
      current.lastOccurrenceAt = iso;
      continue;
    }
    const incident = {
      deviceId: alert.deviceId,
      rule: alert.rule,
      openedAt: iso,
      lastOccurrenceAt: iso,
      occurrences: 1,
      lastMs: ms,
    };
    open.set(key, incident);
    incidents.push(incident);
  }
  let readingsInvolved = 0;
  for (const record of scored) {
    if (record.rules.length === 0) continue;
    const ms = Date.parse(record.ts);
    if (ms >= fromMs && ms < toMs) readingsInvolved += 1;
  }
  // Pages per hour over the range, but never over less than an hour: two pages in ten minutes is "more than once
  // an hour", one page in ten minutes is not.
  const rangeHours = (toMs - fromMs) / 3_600_000;
  const pagesPerHour = incidents.length / Math.max(1, rangeHours);
  return {
    alerts: inRange.length,
    byRule,
    byHour,
    byDay,
    incidents: incidents.length,
    incidentList: incidents.slice(0, MAX_LISTED_INCIDENTS).map((i) => ({
      deviceId: i.deviceId,
      rule: i.rule,
      openedAt: i.openedAt,
      lastOccurrenceAt: i.lastOccurrenceAt,
      occurrences: i.occurrences,
    })),
    readingsInvolved,
    pagesPerHour: Math.round(pagesPerHour * 1000) / 1000,
    noiseWarning:
      pagesPerHour > 1
        ? `would page ${incidents.length} times in ${durationText(toMs - fromMs)} (${pagesPerHour.toFixed(1)} an hour): more than once an hour is noise`
        : null,
  };
}

/** `45 min`, `6 h`, `2.5 d`. */
function durationText(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${Math.round(minutes)} min`;
  if (minutes < 48 * 60) return `${Math.round((minutes / 60) * 10) / 10} h`;
  return `${Math.round((minutes / 1440) * 10) / 10} d`;
}
