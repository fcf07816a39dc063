import type { Alert } from "../alerts/alert.ts";
import type { Clock } from "../ports/clock.ts";
import type { IncidentStore } from "../ports/incident-store.ts";
import { IncidentNotReadyError } from "./errors.ts";
import { recordsOccurrenceEntry } from "./incident.ts";
import { newIncident } from "./open-incident.ts";

export interface OpenOrFoldResult {
  /** `opened`: this alert opened the incident and its execution escalates it. `folded`: added as an occurrence. */
  action: "opened" | "folded";
  incidentId: string;
}

/** A pointer whose incident item is still missing after this long is abandoned (its opener died). */
export const STALE_POINTER_MS = 120_000;

/**
 * Opens an incident for the alert, or folds the alert into the active incident of the same device and rule.
 * Idempotent per alert (the incident id derives from the alert id; folds are deduplicated by alert id), and safe
 * against concurrent alerts (the dedupe pointer is written with a condition: one opener wins, others fold).
 */
export async function openOrFold(
  deps: { store: IncidentStore; clock: Clock },
  alert: Alert,
  executionName: string,
): Promise<OpenOrFoldResult> {
  const now = new Date(deps.clock.now());
  const candidate = newIncident(alert, executionName, now);
  for (let attempt = 0; attempt < 5; attempt++) {
    const pointer = await deps.store.openPointer(alert.deviceId, alert.rule);
    if (!pointer || pointer.incidentId === candidate.id) {
      const opened = await deps.store.open(candidate);
      if (opened.outcome !== "conflict") return { action: "opened", incidentId: candidate.id };
      continue; // another alert won the race: fold into its incident
    }
    const current = await deps.store.get(pointer.incidentId);
    const n = (current?.incident.occurrences ?? 0) + 1;
    const at = now.toISOString();
    const outcome = await deps.store.fold(pointer.incidentId, {
      alertId: alert.alertId,
      at,
      entry: recordsOccurrenceEntry(n) ? { at, type: "occurrence", detail: alert.alertId } : undefined,
    });
    if (outcome === "folded" || outcome === "duplicate")
      return { action: "folded", incidentId: pointer.incidentId };
    if (outcome === "inactive") {
      // Closed between our reads: drop its pointer (if still there) and try again.
      await deps.store.closePointer(alert.deviceId, alert.rule, pointer.incidentId);
      continue;
    }
    // missing: the opener is between its two writes, or died there.
    if (deps.clock.now() - Date.parse(pointer.createdAt) < STALE_POINTER_MS) {
      throw new IncidentNotReadyError("the open incident for this device and rule is still being created");
    }
    if (await deps.store.takeOverPointer(candidate, pointer.incidentId)) {
      await deps.store.open(candidate);
      return { action: "opened", incidentId: candidate.id };
    }
  }
  throw new IncidentNotReadyError("could not open or fold the incident after repeated conflicts");
}
