import type { Alert } from "../alerts/alert.ts";

/** Where two replays of the same range disagree, per device and rule. */
export interface ReplayDifference {
  deviceId: string;
  rule: string;
  /** Alerts each replay raised for this device and rule. */
  a: number;
  b: number;
  /** Window starts (ISO) of alerts only one side raised (at most 20 each). */
  onlyA: string[];
  onlyB: string[];
}

const key = (alert: Pick<Alert, "deviceId" | "rule">) => `${alert.deviceId}\u0000${alert.rule}`;

/** Compares the alerts of two replays: every device and rule where the sets of alerted windows differ. */
export function compareReplays(a: readonly Alert[], b: readonly Alert[]): ReplayDifference[] {
  const group = (alerts: readonly Alert[]) => {
    const map = new Map<string, Set<string>>();
    for (const alert of alerts) {
      const set = map.get(key(alert)) ?? new Set<string>();
      set.add(alert.windowStart);
      map.set(key(alert), set);
    }
    return map;
  };
  const left = group(a);
  const right = group(b);
  const out: ReplayDifference[] = [];
  for (const k of new Set([...left.keys(), ...right.keys()])) {
    const l = left.get(k) ?? new Set<string>();
    const r = right.get(k) ?? new Set<string>();
    const onlyA = [...l].filter((w) => !r.has(w)).sort();
    const onlyB = [...r].filter((w) => !l.has(w)).sort();
    if (onlyA.length === 0 && onlyB.length === 0) continue;
    const [deviceId, rule] = k.split("\u0000");
    out.push({ deviceId, rule, a: l.size, b: r.size, onlyA: onlyA.slice(0, 20), onlyB: onlyB.slice(0, 20) });
  }
  return out.sort((x, y) => x.deviceId.localeCompare(y.deviceId) || x.rule.localeCompare(y.rule));
}
