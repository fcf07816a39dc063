import { createHash } from "node:crypto";

/**
 * The deterministic Step Functions execution name (= `alertId`) of an alert: a hash of device, rule and window
 * start, so a retried batch, a duplicated record or a second container starting the same alert collides with the
 * first execution (`ExecutionAlreadyExists`) instead of starting a second escalation.
 *
 * Stuck-sensor alerts pass the start of the stuck run instead of a window start (one escalation per run).
 *
 * Step Functions names: 1–80 characters of `[A-Za-z0-9_-]`. Ours: `<kind>-<windowStartMs base36>-<sha256 hex 40>`,
 * at most 58 characters; device ids (free text) only enter through the hash.
 */
export function executionName(deviceId: string, rule: string, windowStartMs: number): string {
  const digest = createHash("sha256").update(`${deviceId}\u0000${rule}\u0000${windowStartMs}`).digest("hex");
  const kind = rule.startsWith("bound:")
    ? "bound"
    : rule.startsWith("stuck:")
      ? "stuck"
      : rule.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 10);
  return `${kind}-${Math.max(0, windowStartMs).toString(36)}-${digest.slice(0, 40)}`;
}

export const EXECUTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
