import { executionName } from "../scoring/execution-name.ts";
import type { Reading } from "../telemetry/reading.ts";
import type { Alert, AttributionEntry } from "./alert.ts";
import type { RuleFiring } from "./rule-firing.ts";
import { SILENCE_RULE, SITE_SILENCE_RULE, siteSubject, type SilenceDecision } from "./silence-rule.ts";

/**
 * The alert a record's rule firing starts. Deterministic id (= execution name) from device, rule and window start (a
 * stuck run's start), so retries and duplicates cannot start a second escalation. `metrics`, `attribution` and
 * `causes` hold only the metrics that caused it.
 */
export function recordAlert(input: {
  firing: RuleFiring;
  reading: Reading;
  modelKey: string;
  windowStartMs: number;
  score: number;
  grade: number;
  attribution: readonly AttributionEntry[];
}): Alert {
  const { firing, reading } = input;
  const causing = new Set(firing.causes.map((c) => c.metric));
  return {
    alertId: executionName(reading.deviceId, firing.rule, firing.nameKeyMs ?? input.windowStartMs),
    kind: firing.kind,
    rule: firing.rule,
    deviceId: reading.deviceId,
    ...(reading.site !== undefined ? { site: reading.site } : {}),
    manufacturer: reading.manufacturer,
    model: reading.model,
    modelKey: input.modelKey,
    ts: reading.ts,
    windowStart: new Date(input.windowStartMs).toISOString(),
    score: input.score,
    grade: input.grade,
    metrics: Object.fromEntries(firing.causes.map((c) => [c.metric, c.value])),
    attribution: input.attribution.filter((a) => causing.has(a.metric)),
    causes: firing.causes,
    message: firing.message,
  };
}

/**
 * The alert of a silence decision. A device's is keyed by the last window it reported in (one per quiet spell); a
 * site's by site, shard and window of detection (several shards' alerts fold into the site's one incident).
 */
export function silenceAlert(
  decision: SilenceDecision,
  at: { shardId: string; windowStartMs: number },
): Alert {
  const ts = new Date(at.windowStartMs).toISOString();
  const common = {
    kind: "silence" as const,
    ts,
    metrics: {},
    attribution: [],
    causes: [],
    message: decision.message,
  };
  if (decision.scope === "site") {
    const subject = siteSubject(decision.site);
    const first = decision.devices[0]?.entry;
    return {
      ...common,
      alertId: executionName(`${subject}\u0000${at.shardId}`, SITE_SILENCE_RULE, at.windowStartMs),
      rule: SITE_SILENCE_RULE,
      deviceId: subject,
      site: decision.site,
      ...(first?.manufacturer !== undefined ? { manufacturer: first.manufacturer } : {}),
      ...(first?.model !== undefined ? { model: first.model } : {}),
      windowStart: ts,
      devices: decision.devices.map((d) => d.deviceId),
    };
  }
  const { deviceId, entry } = decision.device;
  return {
    ...common,
    alertId: executionName(deviceId, SILENCE_RULE, entry.lastSeenMs),
    rule: SILENCE_RULE,
    deviceId,
    ...(entry.site !== undefined ? { site: entry.site } : {}),
    ...(entry.manufacturer !== undefined ? { manufacturer: entry.manufacturer } : {}),
    ...(entry.model !== undefined ? { model: entry.model } : {}),
    windowStart: new Date(entry.lastSeenMs).toISOString(),
  };
}
