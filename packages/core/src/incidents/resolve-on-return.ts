import { resolveIncident, type IncidentDeps } from "./acknowledge.ts";
import { AUTO_RESOLVE_ACTOR } from "./quiet-period.ts";

/**
 * Resolves an open incident by itself when its cause is gone (a silent device reports again): what the scoring path
 * needs from the incidents side. Implementations must be idempotent (resolving twice changes nothing).
 */
export interface IncidentResolver {
  /** Resolves the active incident of (subject, rule), if any; `detail` goes on the timeline entry. */
  resolveActive(subject: string, rule: string, detail: string): Promise<{ resolved: boolean }>;
}

/**
 * `IncidentResolver` over the incident store: finds the active incident through its dedupe pointer and resolves it
 * as `auto_resolved` (timeline entry with `detail`), ending a wait for acknowledgement in progress.
 */
export function incidentResolver(deps: IncidentDeps): IncidentResolver {
  return {
    async resolveActive(subject, rule, detail) {
      const pointer = await deps.store.openPointer(subject, rule);
      if (!pointer) return { resolved: false };
      const record = await deps.store.get(pointer.incidentId);
      if (!record) return { resolved: false };
      const { outcome } = await resolveIncident(deps, {
        incidentId: pointer.incidentId,
        actor: AUTO_RESOLVE_ACTOR,
        auto: true,
        detail,
      });
      return { resolved: outcome === "resolved" };
    },
  };
}
