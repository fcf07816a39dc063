import type { Alert } from "../alerts/alert.ts";
import { silenceAlert } from "../alerts/build-alert.ts";
import {
  SILENCE_RULE,
  SITE_SILENCE_RULE,
  silenceRule,
  siteSubject,
  type SilenceDecision,
} from "../alerts/silence-rule.ts";
import type { IncidentResolver } from "../incidents/resolve-on-return.ts";
import type { Reading } from "../telemetry/reading.ts";
import type { PresenceTracker } from "../window/presence.ts";
import type { WindowBounds } from "../window/window-time.ts";
import type { ThresholdResolver } from "./window-scorer-api.ts";

/**
 * The scorer's side of the silence rule (ADR 0606): at a window's end, which silence alerts to start (per-scope
 * `silenceWindows`, 0 disables; a cadence and several of its own intervals missed; a site quiet together is one
 * `silence:site`); and, when a device in a raised quiet spell reports again, resolving its incident.
 */
export async function silenceAtWindowEnd(input: {
  presence: PresenceTracker;
  shardId: string;
  window: WindowBounds;
  windowMs: number;
  thresholds: ThresholdResolver;
  /** `silenceWindows` when no scope sets it. */
  defaultWindows: number;
}): Promise<{ alert: Alert; decision: SilenceDecision }[]> {
  const { presence, window, windowMs, defaultWindows } = input;
  const limits = new Map<string, number>();
  for (const [deviceId, entry] of presence.entries()) {
    // Only devices quiet for at least a window can be due; only they need a thresholds lookup.
    if (entry.silenced || window.startMs - entry.lastSeenMs < windowMs) continue;
    let limit = defaultWindows;
    if (entry.manufacturer && entry.model) {
      const t = await input.thresholds.resolve({
        deviceId,
        manufacturer: entry.manufacturer,
        model: entry.model,
      });
      if (t.silenceWindows) limit = t.silenceWindows.value;
    }
    limits.set(deviceId, limit);
  }
  const candidates = presence.silenceCandidates(
    window.startMs,
    window.endMs,
    windowMs,
    (id) => limits.get(id) ?? defaultWindows,
  );
  const decisions = silenceRule({ ...candidates, siteSize: (site) => presence.siteDevices(site).length });
  return decisions.map((decision) => ({
    decision,
    alert: silenceAlert(decision, { shardId: input.shardId, windowStartMs: window.startMs }),
  }));
}

/** Marks the devices of a started silence alert as in a raised quiet spell (once per spell). */
export function markRaised(presence: PresenceTracker, decision: SilenceDecision): void {
  if (decision.scope === "device") presence.markSilenced(decision.device.deviceId, "device");
  else for (const d of decision.devices) presence.markSilenced(d.deviceId, "site");
}

/**
 * A device in a raised quiet spell reports again: resolves its silence incident (a site's once none of the site's
 * devices is still quiet). Call before the reading is observed. Whether an incident was resolved.
 */
export async function resolveOnReturn(
  incidents: IncidentResolver | undefined,
  presence: PresenceTracker,
  reading: Pick<Reading, "deviceId" | "ts">,
): Promise<boolean> {
  const returning = presence.returning(reading.deviceId);
  if (!returning || !incidents) return false;
  const detail = `${reading.deviceId} reported again at ${reading.ts}`;
  if (returning === "device") {
    return (await incidents.resolveActive(reading.deviceId, SILENCE_RULE, detail)).resolved;
  }
  const site = presence.get(reading.deviceId)?.site;
  if (site === undefined || presence.siteStillSilent(site, reading.deviceId)) return false;
  return (await incidents.resolveActive(siteSubject(site), SITE_SILENCE_RULE, detail)).resolved;
}
