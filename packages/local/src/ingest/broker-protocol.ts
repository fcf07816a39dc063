/** Messages between the MQTT broker worker and the main thread. Plain data (structured clone). */

export interface BrokerWorkerData {
  entry: string;
  host: string;
  port: number;
}

/** Worker → main. */
export type BrokerEvent =
  | { type: "ready"; port: number }
  | {
      /**
       * The publishes received in one turn of the broker's event loop, in order (issue 13: one message across the
       * thread boundary per turn instead of one per publish). Message i is `ids[i]`, `topics[i]`, …, its payload
       * the bytes `payloads[offsets[i]]` to `payloads[offsets[i + 1]]` (exclusive).
       */
      type: "publishes";
      /** Sequence numbers; the main thread acks each once every rule action has taken the message. */
      ids: number[];
      topics: string[];
      /** Broker receive times, epoch ms (IoT SQL `timestamp()`). */
      receivedAt: number[];
      qos: (0 | 1 | 2)[];
      /** The payloads back to back (one transferred buffer). */
      payloads: Uint8Array;
      /** `ids.length + 1` offsets into `payloads`. */
      offsets: number[];
    }
  | {
      /** A publish refused at the broker for an AWS IoT Core limit (the client is disconnected, as on AWS). */
      type: "rejected";
      code: BrokerLimitCode;
      topic: string;
      payloadBytes: number;
      payloadSha256: string;
      receivedAt: number;
    }
  | { type: "clients"; connected: number }
  | { type: "client-error"; message: string }
  | { type: "closed" }
  | { type: "fatal"; message: string };

/** Main → worker. */
export type BrokerCommand = { type: "ack"; ids: number[] } | { type: "close" };

/** AWS IoT Core's message broker limits, enforced the same way locally (ADR 0400). */
export const IOT_MAX_PAYLOAD_BYTES = 128 * 1024;
export const IOT_MAX_TOPIC_BYTES = 256;
/** At most 7 forward slashes, i.e. 8 levels. */
export const IOT_MAX_TOPIC_SLASHES = 7;

export type BrokerLimitCode = "PAYLOAD_TOO_LARGE" | "TOPIC_TOO_LONG" | "TOO_MANY_TOPIC_LEVELS";

/** The limit a publish breaks, or undefined. */
export function brokerLimitViolation(topic: string, payloadBytes: number): BrokerLimitCode | undefined {
  if (Buffer.byteLength(topic, "utf8") > IOT_MAX_TOPIC_BYTES) return "TOPIC_TOO_LONG";
  let slashes = 0;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) slashes++;
  // The Basic Ingest prefix `$aws/rules/<rule>/` does not count toward the 7 slashes (AWS IoT Core quotas).
  if (topic.startsWith("$aws/rules/")) slashes = Math.max(0, slashes - 3);
  if (slashes > IOT_MAX_TOPIC_SLASHES) return "TOO_MANY_TOPIC_LEVELS";
  if (payloadBytes > IOT_MAX_PAYLOAD_BYTES) return "PAYLOAD_TOO_LARGE";
  return undefined;
}
