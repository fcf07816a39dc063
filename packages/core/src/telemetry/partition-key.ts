import { payloadSources, resolvePayloadSource, type PayloadSource } from "./payload-sources.ts";

/**
 * The Kinesis partition key of a message: its device id, computed exactly as the IoT rule's Kinesis action
 * template for the topic computes it (`${topic(3)}` canonical, `${device_id}` medical, `${topic(4)}` weather,
 * `${FANID}` fan). All readings of a device therefore land on one shard, in order.
 *
 * `payload` may be the raw bytes, the text, or the parsed object. Returns undefined when the template would be
 * empty (unknown topic, payload not JSON, device field missing): on AWS the Kinesis action then fails and the
 * rule's error action records it; the Firehose path still turns the message into an error record.
 *
 * `rule` names the rule (payload source) whose template applies when the rule was chosen by name rather than by
 * its topic filter (Basic Ingest, `$aws/rules/<rule>/<topic>`): AWS then evaluates that rule's template on the
 * topic, whichever shape the topic belongs to. Without it, the rule whose filter matches the topic applies.
 */
export function derivePartitionKey(
  topic: string,
  payload: Uint8Array | string | Record<string, unknown> | undefined,
  rule?: string,
): string | undefined {
  const source =
    rule === undefined ? resolvePayloadSource(topic) : payloadSources.find((s) => s.source === rule);
  if (source === undefined) return undefined;
  // A template of topic segments (`${topic(3)}`) never reads the payload: it is not parsed for it (issue 13).
  return source.partitionKey(topic, keyedByTopic.has(source) ? undefined : toObject(payload));
}

/** The sources whose key template is one topic segment (`${topic(3)}`), found once rather than per message. */
const keyedByTopic: ReadonlySet<PayloadSource> = new Set(
  payloadSources.filter((source) => /^\$\{topic\(\d+\)\}$/.test(source.partitionKeyTemplate)),
);

function toObject(
  payload: Uint8Array | string | Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (payload === undefined) return undefined;
  if (typeof payload === "object" && !(payload instanceof Uint8Array)) return payload;
  try {
    const text =
      typeof payload === "string"
        ? payload
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
