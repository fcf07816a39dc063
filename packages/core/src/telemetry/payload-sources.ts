import { matchesTopicFilter } from "./topic-filter.ts";
import { canonicalSource } from "./sources/canonical.ts";
import { fanSource } from "./sources/fan.ts";
import { medicalSource } from "./sources/medical.ts";
import type { PayloadSource } from "./sources/payload-source.ts";
import { weatherSource } from "./sources/weather.ts";

export type { PayloadSource, ParsedPayload } from "./sources/payload-source.ts";

/**
 * Every accepted payload shape with its topic filter. The Ingest stack creates one IoT rule per entry (SQL from
 * `ingestRuleSql`, Kinesis partition key from `partitionKeyTemplate`); local mode's rule routing uses the same list.
 */
export const payloadSources: readonly PayloadSource[] = [
  canonicalSource,
  medicalSource,
  weatherSource,
  fanSource,
];

const resolved = new Map<string, PayloadSource | null>();
const RESOLVED_CACHE_LIMIT = 10_000;

/** The shape published on `topic`, or undefined when none is. (Memoized: a device publishes on one topic.) */
export function resolvePayloadSource(topic: string): PayloadSource | undefined {
  const cached = resolved.get(topic);
  if (cached !== undefined) return cached ?? undefined;
  let found: PayloadSource | null = null;
  for (const source of payloadSources) {
    if (matchesTopicFilter(source.topicFilter, topic)) {
      found = source;
      break;
    }
  }
  if (resolved.size >= RESOLVED_CACHE_LIMIT) resolved.clear();
  resolved.set(topic, found);
  return found ?? undefined;
}

/**
 * The IoT SQL of an ingest rule: the whole message base64-encoded (so malformed JSON and binary garbage reach the
 * transformation and become error records), its topic and the broker's receive time — an `Envelope`.
 */
export function ingestRuleSql(topicFilter: string): string {
  return `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt, newuuid() AS messageId FROM '${topicFilter}'`;
}
