import type { Incident, IncidentState, TimelineEntry } from "../incidents/incident.ts";

/** What `open` found: the incident was created now, existed already (a retry), or another incident is open. */
export type OpenOutcome =
  | { outcome: "opened" }
  | { outcome: "exists" }
  | { outcome: "conflict"; openIncidentId: string; pointerCreatedAt: string };

export type FoldOutcome = "folded" | "duplicate" | "inactive" | "missing";

/** A conditional change of one incident; every field is optional. */
export interface IncidentChange {
  /** Apply only if the incident is in one of these states (otherwise `update` returns undefined). */
  expectStates?: readonly IncidentState[];
  state?: IncidentState;
  set?: Partial<
    Pick<
      Incident,
      "tier" | "round" | "acknowledgedAt" | "acknowledgedBy" | "resolvedAt" | "resolvedBy" | "policyId"
    >
  >;
  /** Appended to the timeline. */
  entry?: TimelineEntry;
  /** A string stores the task token of the wait in progress; null removes it. */
  taskToken?: string | null;
}

/** An incident with the internal fields the escalation needs (never exposed through the API). */
export interface IncidentRecord {
  incident: Incident;
  /** Task token of the acknowledgement wait in progress, if any. */
  taskToken?: string;
  /** Keys `tier#round#channel` of notifications already sent (skip on retries). */
  notified: readonly string[];
}

/**
 * Incidents with their timelines, and one dedupe pointer per (deviceId, rule) while an incident is active.
 * Every write is conditional so retries and concurrent executions converge (DynamoDB on AWS, dynalite locally).
 */
export interface IncidentStore {
  get(id: string): Promise<IncidentRecord | undefined>;
  /** Every incident, newest first. */
  list(options?: { limit?: number }): Promise<Incident[]>;
  openPointer(deviceId: string, rule: string): Promise<{ incidentId: string; createdAt: string } | undefined>;
  /** Writes the dedupe pointer (if absent), then the incident (if absent). */
  open(incident: Incident): Promise<OpenOutcome>;
  /** Points the dedupe pointer at `incident` if it still names `staleIncidentId`; false if it changed. */
  takeOverPointer(incident: Incident, staleIncidentId: string): Promise<boolean>;
  /** Adds one occurrence unless `alertId` was already folded or the incident is no longer active. */
  fold(
    incidentId: string,
    occurrence: { alertId: string; at: string; entry?: TimelineEntry },
  ): Promise<FoldOutcome>;
  /**
   * Applies `change`; undefined when `expectStates` did not match. Returns the incident after the change and
   * the task token it held before (so whoever ends a wait can complete it). Throws IncidentNotFoundError.
   */
  update(
    incidentId: string,
    change: IncidentChange,
  ): Promise<{ incident: Incident; previousTaskToken?: string } | undefined>;
  /** Records that the notification `key` was sent (and its timeline entry). */
  markNotified(
    incidentId: string,
    key: string,
    entry: TimelineEntry,
    tier: number,
    round: number,
  ): Promise<void>;
  /** Deletes the dedupe pointer if it still names `incidentId` (closing lets a new alert open a new incident). */
  closePointer(deviceId: string, rule: string, incidentId: string): Promise<void>;
}
