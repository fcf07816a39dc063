/**
 * The MQTT 3.1.1 broker (aedes) in its own worker thread, so that parsing and socket work never compete with
 * the handlers on the main thread. Every client PUBLISH (and will message) is forwarded to the main thread
 * from aedes' `authorizePublish` hook, and the hook only returns once the main thread has acked the message,
 * i.e. once every rule action holds it. Aedes sends PUBACK (QoS 1) / PUBREC (QoS 2) only after the hook, and
 * reads no further packets from that client until the batch is done, so:
 *  - an acked QoS 1/2 message is never lost by the broker (the client retransmits otherwise), and
 *  - a slow pipeline pushes back on the publishers through TCP instead of growing queues without bound.
 */
import net from "node:net";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { Aedes } from "aedes";
import { createHash } from "node:crypto";
import {
  brokerLimitViolation,
  type BrokerCommand,
  type BrokerEvent,
  type BrokerWorkerData,
} from "./broker-protocol.ts";

const port = parentPort;
if (!port) throw new Error("broker-worker must run in a worker thread");
const data = workerData as BrokerWorkerData;
const send = (event: BrokerEvent, transfer: ArrayBuffer[] = []) => port.postMessage(event, transfer);

const pending = new Map<number, (error?: Error | null) => void>();
let nextId = 1;
let closing = false;
/** Limit violations already recorded (client, payload hash, topic): a client's resends are not recorded again. */
const recentlyRejected = new Set<string>();

/** Publishes received since the last `sendPublishes` (issue 13: one postMessage per turn, not per publish). */
let outbox = emptyOutbox();
let outboxScheduled = false;

const broker = await Aedes.createBroker({
  // The broker id shows in $SYS topics only.
  id: "driftwatch-local",
  // As on AWS, nothing may subscribe to Basic Ingest topics (`$aws/rules/…`): those messages go to the named rule
  // only. The subscription is refused (SUBACK 0x80); other subscriptions are granted as asked.
  authorizeSubscribe(_client, subscription, callback) {
    if (subscription.topic.startsWith("$aws/rules/")) {
      callback(null, null); // a negated subscription: SUBACK 0x80, the client stays connected
      return;
    }
    callback(null, subscription);
  },
  authorizePublish(_client, packet, callback) {
    if (closing) {
      callback(new Error("broker is shutting down"));
      return;
    }
    const bytes0 =
      typeof packet.payload === "string" ? Buffer.byteLength(packet.payload) : packet.payload.length;
    const violation = brokerLimitViolation(packet.topic, bytes0);
    if (violation !== undefined) {
      // As AWS IoT Core: the publish is refused and the client disconnected (MQTT 3.1.1 has no negative PUBACK).
      // A QoS 1 client resends it after reconnecting (DUP); it is recorded once.
      const body = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
      const payloadSha256 = createHash("sha256").update(body).digest("hex");
      const key = `${_client?.id ?? ""}\u0000${payloadSha256}\u0000${packet.topic}`;
      if (!recentlyRejected.has(key)) {
        recentlyRejected.add(key);
        if (recentlyRejected.size > 1024)
          recentlyRejected.delete(recentlyRejected.values().next().value as string);
        send({
          type: "rejected",
          code: violation,
          topic: packet.topic,
          payloadBytes: bytes0,
          payloadSha256,
          receivedAt: Date.now(),
        });
      }
      callback(new Error(`publish refused: ${violation}`));
      return;
    }
    const id = nextId++;
    pending.set(id, callback);
    // Copied at once (aedes' payload may be a view into a pooled socket buffer), into this turn's buffer.
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    outbox.ids.push(id);
    outbox.topics.push(packet.topic);
    outbox.receivedAt.push(Date.now());
    outbox.qos.push(packet.qos);
    outbox.offsets.push(outbox.bytes);
    if (outbox.bytes + payload.length > outbox.buffer.length) {
      const grown = new Uint8Array(Math.max(4096, 2 * outbox.buffer.length, outbox.bytes + payload.length));
      grown.set(outbox.buffer.subarray(0, outbox.bytes));
      outbox.buffer = grown;
    }
    outbox.buffer.set(payload, outbox.bytes);
    outbox.bytes += payload.length;
    if (!outboxScheduled) {
      outboxScheduled = true;
      setImmediate(sendPublishes);
    }
  },
});

function emptyOutbox() {
  return {
    ids: [] as number[],
    topics: [] as string[],
    receivedAt: [] as number[],
    qos: [] as (0 | 1 | 2)[],
    offsets: [] as number[],
    buffer: new Uint8Array(0),
    bytes: 0,
  };
}

function sendPublishes(): void {
  outboxScheduled = false;
  const batch = outbox;
  outbox = emptyOutbox();
  if (batch.ids.length === 0) return;
  batch.offsets.push(batch.bytes);
  send(
    {
      type: "publishes",
      ids: batch.ids,
      topics: batch.topics,
      receivedAt: batch.receivedAt,
      qos: batch.qos,
      payloads: batch.buffer.subarray(0, batch.bytes),
      offsets: batch.offsets,
    },
    [batch.buffer.buffer as ArrayBuffer],
  );
}

const server = net.createServer(broker.handle);
let connected = 0;
broker.on("client", () => send({ type: "clients", connected: ++connected }));
broker.on("clientDisconnect", () =>
  send({ type: "clients", connected: (connected = Math.max(0, connected - 1)) }),
);
broker.on("clientError", (_client, error) => send({ type: "client-error", message: error.message }));
broker.on("connectionError", (_client, error) => send({ type: "client-error", message: error.message }));

port.on("message", (command: BrokerCommand) => {
  if (command.type === "ack") {
    for (const id of command.ids) {
      const callback = pending.get(id);
      pending.delete(id);
      callback?.(null);
    }
  } else if (command.type === "close") {
    void close();
  }
});

async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  // Stop accepting, then disconnect clients. Messages already forwarded are the main thread's to finish;
  // unacked QoS 1/2 messages are retransmitted by their clients when they reconnect.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  for (const callback of pending.values()) callback(new Error("broker closed"));
  pending.clear();
  send({ type: "closed" });
}

server.on("error", (error) => send({ type: "fatal", message: error.message }));
server.listen(data.port, data.host, () => {
  send({ type: "ready", port: (server.address() as AddressInfo).port });
});
