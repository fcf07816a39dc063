import { Worker } from "node:worker_threads";
import type { BrokerCommand, BrokerEvent, BrokerLimitCode, BrokerWorkerData } from "./broker-protocol.ts";

/** A publish the broker refused for an AWS IoT Core limit (never reaches the rules, as on AWS). */
export interface BrokerRejection {
  code: BrokerLimitCode;
  topic: string;
  payloadBytes: number;
  payloadSha256: string;
  receivedAt: number;
}

export interface PublishedMessage {
  topic: string;
  payload: Uint8Array;
  receivedAt: number;
  qos: 0 | 1 | 2;
}

export interface MqttBrokerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Called for every message a client publishes. The client's PUBACK waits for the returned promise: resolve
   * once the message is safe with every rule action. A rejection is logged and the message still acked (the
   * caller is expected to have recorded the failure, as an IoT rule's error action would).
   */
  onMessage(message: PublishedMessage): Promise<void>;
  onClients?(connected: number): void;
  /** Called once per publish refused for a broker limit (payload 128 KB, topic 256 bytes, 7 slashes). */
  onRejected?(rejection: BrokerRejection): void;
  log?(message: string): void;
}

export interface MqttBroker {
  port: number;
  /** Messages received but not yet fully handled by `onMessage`. */
  inFlight(): number;
  /** Stops accepting, disconnects clients, waits until every received message is handled. */
  close(): Promise<void>;
}

/** Starts the aedes broker in its own worker thread (see `broker-worker.ts`). */
export async function startMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const workerData: BrokerWorkerData = {
    entry: new URL("./broker-worker.ts", import.meta.url).href,
    host: options.host,
    port: options.port,
  };
  const worker = new Worker(new URL("../runtime/worker-boot.mjs", import.meta.url), { workerData });
  const inFlight = new Set<Promise<void>>();
  let ackQueue: number[] = [];
  let ackScheduled = false;
  const post = (command: BrokerCommand) => worker.postMessage(command);
  const ack = (id: number) => {
    ackQueue.push(id);
    if (ackScheduled) return;
    ackScheduled = true;
    setImmediate(() => {
      ackScheduled = false;
      const ids = ackQueue;
      ackQueue = [];
      post({ type: "ack", ids });
    });
  };

  const handle = (id: number, message: PublishedMessage) => {
    const done = () => {
      inFlight.delete(handled);
      ack(id);
    };
    const handled = options.onMessage(message).then(done, (error: Error) => {
      options.log?.(`message on ${message.topic} not handled: ${error.name}: ${error.message}`);
      done();
    });
    inFlight.add(handled);
  };

  let onClosed: (() => void) | undefined;
  let exited = false;
  const ready = new Promise<number>((resolve, reject) => {
    worker.on("message", (event: BrokerEvent) => {
      switch (event.type) {
        case "ready":
          resolve(event.port);
          break;
        case "publishes":
          for (let i = 0; i < event.ids.length; i++) {
            handle(event.ids[i], {
              topic: event.topics[i],
              payload: event.payloads.subarray(event.offsets[i], event.offsets[i + 1]),
              receivedAt: event.receivedAt[i],
              qos: event.qos[i],
            });
          }
          break;
        case "rejected":
          options.onRejected?.({
            code: event.code,
            topic: event.topic,
            payloadBytes: event.payloadBytes,
            payloadSha256: event.payloadSha256,
            receivedAt: event.receivedAt,
          });
          break;
        case "clients":
          options.onClients?.(event.connected);
          break;
        case "client-error":
          options.log?.(`client error: ${event.message}`);
          break;
        case "closed":
          onClosed?.();
          break;
        case "fatal":
          reject(
            new Error(`MQTT broker could not listen on ${options.host}:${options.port}: ${event.message}`),
          );
          break;
      }
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      exited = true;
      onClosed?.();
      reject(new Error(`MQTT broker worker exited with code ${code}`));
    });
  });

  let port: number;
  try {
    port = await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.on("error", (error) => options.log?.(`broker worker error: ${error.message}`));

  return {
    port,
    inFlight: () => inFlight.size,
    async close() {
      if (!exited) {
        const closed = new Promise<void>((resolve) => (onClosed = resolve));
        post({ type: "close" });
        await closed;
      }
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await worker.terminate();
    },
  };
}
