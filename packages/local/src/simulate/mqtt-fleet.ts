import mqtt, { type MqttClient } from "mqtt";
import { DriftwatchError } from "@driftwatch/core/shared/errors";

/** No broker answered at the URL (refused, unreachable, or no CONNACK in time). */
export class BrokerUnavailableError extends DriftwatchError {
  constructor(url: string, reason: string, cause?: unknown) {
    super(
      `no MQTT broker reachable at ${url} (${reason}). Start local mode first with \`npm start\` ` +
        `(it listens on 127.0.0.1:$MQTT_PORT, default 1883), or point --mqtt at a running MQTT 3.1.1 broker.`,
      { code: "BROKER_UNAVAILABLE", cause },
    );
  }
}

/** The broker answered but refused the connection (CONNACK with an error code, bad client id, …). */
export class BrokerRefusedError extends DriftwatchError {
  constructor(url: string, reason: string, cause?: unknown) {
    super(`the MQTT broker at ${url} refused the connection: ${reason}`, { code: "BROKER_REFUSED", cause });
  }
}

export interface FleetOptions {
  url: string;
  clients: number;
  /** Client ids are `<prefix>-<n>`; unique per run so two simulators never kick each other off. */
  clientIdPrefix: string;
  /** Connections opened at once; aedes (MQTT 3.1.1) copes better with waves than with a storm. Default 20. */
  connectWave?: number;
  connectTimeoutMs?: number;
  /** Reconnect delay once a client has connected (a broker restart mid-run). Default 1000 ms. */
  reconnectPeriodMs?: number;
}

export interface MqttFleet {
  clients: MqttClient[];
  /** Disconnects every client (graceful DISCONNECT; forced after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "ETIMEDOUT",
  "ECONNRESET",
]);

function connectOne(url: string, clientId: string, timeoutMs: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: 4, // MQTT 3.1.1: what aedes and AWS IoT Core speak
      clean: true,
      keepalive: 30,
      connectTimeout: timeoutMs,
      reconnectPeriod: 0, // fail fast on the first connect; re-enabled once connected
    });
    const cleanup = () => {
      client.off("connect", onConnect);
      client.off("error", onError);
      client.off("close", onClose);
    };
    const fail = (error: Error) => {
      cleanup();
      client.end(true);
      reject(error);
    };
    const onConnect = () => {
      cleanup();
      resolve(client);
    };
    const onError = (error: Error & { code?: string | number }) => {
      if (typeof error.code === "string" && UNREACHABLE.has(error.code)) {
        fail(
          new BrokerUnavailableError(
            url,
            error.code === "ECONNREFUSED" ? "connection refused" : error.code,
            error,
          ),
        );
      } else if (typeof error.code === "number") {
        fail(new BrokerRefusedError(url, error.message, error));
      } else {
        fail(new BrokerUnavailableError(url, error.message, error));
      }
    };
    const onClose = () => fail(new BrokerUnavailableError(url, `no CONNACK within ${timeoutMs} ms`));
    client.on("connect", onConnect);
    client.on("error", onError);
    client.on("close", onClose);
  });
}

function endClient(client: MqttClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => client.end(true, () => resolve()), timeoutMs);
    client.end(false, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Opens `clients` MQTT connections in waves. If any connection fails, the ones already open are closed and the
 * first error is thrown (a `BrokerUnavailableError` that says how to start the broker when nothing listens).
 */
export async function connectFleet(options: FleetOptions): Promise<MqttFleet> {
  const wave = Math.max(1, options.connectWave ?? 20);
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const clients: MqttClient[] = [];
  const close = async (closeTimeoutMs = 5_000) => {
    await Promise.all(clients.map((client) => endClient(client, closeTimeoutMs)));
  };
  try {
    for (let first = 0; first < options.clients; first += wave) {
      const batch: Promise<MqttClient>[] = [];
      for (let i = first; i < Math.min(options.clients, first + wave); i++) {
        batch.push(connectOne(options.url, `${options.clientIdPrefix}-${i}`, timeoutMs));
      }
      const settled = await Promise.allSettled(batch);
      for (const result of settled) if (result.status === "fulfilled") clients.push(result.value);
      const failure = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
      if (failure) throw failure.reason;
    }
  } catch (error) {
    await close(1_000);
    throw error;
  }
  for (const client of clients) {
    client.options.reconnectPeriod = options.reconnectPeriodMs ?? 1_000;
    // After the first connect, errors are reported through publish callbacks; keep the process alive.
    client.on("error", () => {});
  }
  return { clients, close };
}
