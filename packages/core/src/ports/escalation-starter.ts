import type { Alert } from "../alerts/alert.ts";

/**
 * Starts one escalation per alert. `executionName` is deterministic; implementations must treat
 * "already started with that name" as success, so retries and duplicates never start a second run.
 */
export interface EscalationStarter {
  start(alert: Alert, executionName: string): Promise<{ started: boolean }>;
}
