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
      type: "publish";
      /** Sequence number; the main thread acks it once every rule action has taken the message. */
      id: number;
      topic: string;
      payload: Uint8Array;
      /** Broker receive time, epoch ms (IoT SQL `timestamp()`). */
      receivedAt: number;
      qos: 0 | 1 | 2;
    }
  | { type: "clients"; connected: number }
  | { type: "client-error"; message: string }
  | { type: "closed" }
  | { type: "fatal"; message: string };

/** Main → worker. */
export type BrokerCommand = { type: "ack"; ids: number[] } | { type: "close" };
