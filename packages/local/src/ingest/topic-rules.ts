import { payloadSources } from "@driftwatch/core/telemetry/payload-sources";
import { matchesTopicFilter } from "@driftwatch/core/telemetry/topic-filter";

/**
 * Local mode's IoT topic rules: one per accepted payload shape, from core's `payloadSources`, the list the
 * Ingest stack creates its rules from. Each rule's SQL makes the message an `Envelope` (base64 payload, topic,
 * receive time), which the rule routing builds with `encodeEnvelope`; its actions are the rule targets.
 *
 * A message that matches no rule goes to the catch-all `unmatched` rule, whose only action is the Firehose
 * stream: the transformation records it under `errors/` as an unknown topic, so nothing is dropped silently.
 */
export interface TopicRule {
  name: string;
  /** MQTT topic filter (`+` one level, `#` the rest). */
  topicFilter: string;
}

export const topicRules: readonly TopicRule[] = payloadSources.map((source) => ({
  name: source.source,
  topicFilter: source.topicFilter,
}));

export const unmatchedRule: TopicRule = { name: "unmatched", topicFilter: "#" };

/** The rules a topic matches, in order; empty when none (→ the unmatched rule). */
export function matchRules(topic: string, rules: readonly TopicRule[] = topicRules): TopicRule[] {
  return rules.filter((rule) => matchesTopicFilter(rule.topicFilter, topic));
}
