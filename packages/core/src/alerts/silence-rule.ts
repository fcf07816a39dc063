import type { SilentDevice } from "../window/presence.ts";
import { formatValue } from "./alert-text.ts";

/** Rule id of one device's silence, and of a site whose devices went quiet together. */
export const SILENCE_RULE = "silence";
export const SITE_SILENCE_RULE = "silence:site";

/** The incident subject (`deviceId`) of a site's silence. */
export function siteSubject(site: string): string {
  return `site:${site}`;
}

/** A site is quiet together when at least this many of its devices are … */
export const SITE_MIN_DEVICES = 2;
/** … and they are more than this share of the site's devices that have a cadence. */
export const SITE_MAJORITY = 0.5;

export interface DeviceSilence {
  scope: "device";
  device: SilentDevice;
  message: string;
}

export interface SiteSilence {
  scope: "site";
  site: string;
  /** Every quiet device of the site (due now, or quiet and not yet due), sorted. */
  devices: SilentDevice[];
  /** Devices of the site with a cadence. */
  siteSize: number;
  message: string;
}

export type SilenceDecision = DeviceSilence | SiteSilence;

/**
 * Silence rule (pure), at a window's end, over the devices `PresenceTracker.silenceCandidates` found: each `due`
 * device (cadence shown, several own intervals and `silenceWindows` windows missed) is silent. When most devices of
 * one site are quiet in the same window (at least `SITE_MIN_DEVICES`, more than `SITE_MAJORITY` of the site's
 * devices with a cadence, at least one due), the site gets one `silence:site` decision listing them (the quiet ones
 * not yet due join it) instead of one per device. ADR 0606.
 */
export function silenceRule(input: {
  due: readonly SilentDevice[];
  quiet: readonly SilentDevice[];
  /** Devices of a site that have shown a cadence. */
  siteSize: (site: string) => number;
}): SilenceDecision[] {
  const bySite = new Map<string, { due: SilentDevice[]; quiet: SilentDevice[] }>();
  const decisions: SilenceDecision[] = [];
  for (const [list, key] of [
    [input.due, "due"],
    [input.quiet, "quiet"],
  ] as const) {
    for (const d of list) {
      const site = d.entry.site;
      if (site === undefined) continue;
      let group = bySite.get(site);
      if (!group) bySite.set(site, (group = { due: [], quiet: [] }));
      group[key].push(d);
    }
  }
  const inSite = new Set<string>();
  for (const [site, group] of bySite) {
    const quietCount = group.due.length + group.quiet.length;
    const size = input.siteSize(site);
    if (group.due.length === 0 || quietCount < SITE_MIN_DEVICES || quietCount <= SITE_MAJORITY * size)
      continue;
    const devices = [...group.due, ...group.quiet].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    for (const d of devices) inSite.add(d.deviceId);
    decisions.push({
      scope: "site",
      site,
      devices,
      siteSize: size,
      message:
        `${SITE_SILENCE_RULE} on ${siteSubject(site)}: ${devices.length} of ${size} devices quiet (${devices
          .map((d) => d.deviceId)
          .join(", ")})`.slice(0, 300),
    });
  }
  for (const d of input.due) {
    if (inSite.has(d.deviceId)) continue;
    decisions.push({ scope: "device", device: d, message: deviceSilenceMessage(d) });
  }
  return decisions;
}

function deviceSilenceMessage(d: SilentDevice): string {
  const last = new Date(d.entry.lastArrivalMs ?? d.entry.lastSeenMs).toISOString();
  return `${SILENCE_RULE} on ${d.deviceId}: no reading since ${last}, ${d.missedIntervals} of its ${formatValue(
    d.cadenceMs / 1000,
  )} s intervals missed (${d.quietWindows} windows quiet)`;
}
