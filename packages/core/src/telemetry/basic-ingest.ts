/**
 * AWS IoT Basic Ingest: a device publishes to `$aws/rules/<ruleName>/<topic>` and the named rule runs on the message
 * directly, without the message broker (no IoT messaging charge; rules and actions are billed as usual). What AWS
 * documents (developer guide, "Reducing messaging costs with Basic Ingest"), and what local mode reproduces:
 * - the first three levels `$aws/rules/<ruleName>` select the rule; the rest is the topic the rule sees: the prefix
 *   "isn't available to the topic(Decimal) function", so `topic(3)` of `$aws/rules/r/dt/site/dev-1/telemetry` is
 *   `dev-1`, exactly as for a broker publish on `dt/site/dev-1/telemetry`;
 * - the rule's FROM filter is not applied (the rule was named), its WHERE clause is;
 * - nothing can subscribe to these topics, so no other client sees the messages.
 *
 * The rule names are the Ingest stack's (`driftwatch_<stage>_<rule>`); local mode uses the stage `local`.
 */
export const BASIC_INGEST_PREFIX = "$aws/rules/";

/** Stage whose rule names local mode accepts on `$aws/rules/…`. */
export const LOCAL_STAGE = "local";

/** The IoT rule name of an ingest rule on a stage (IoT rule names allow [a-zA-Z0-9_] only). */
export function ingestRuleName(stage: string, rule: string): string {
  return `driftwatch_${stage}_${rule}`.replace(/[^A-Za-z0-9_]/g, "_");
}

/** The Basic Ingest topic that invokes `ruleName` with `topic` as the rule's topic. */
export function basicIngestTopic(ruleName: string, topic: string): string {
  return `${BASIC_INGEST_PREFIX}${ruleName}/${topic}`;
}

/** `{ ruleName, topic }` of a Basic Ingest topic (topic without the prefix), or undefined for any other topic. */
export function parseBasicIngestTopic(topic: string): { ruleName: string; topic: string } | undefined {
  if (!topic.startsWith(BASIC_INGEST_PREFIX)) return undefined;
  const rest = topic.slice(BASIC_INGEST_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { ruleName: rest.slice(0, slash), topic: rest.slice(slash + 1) };
}
