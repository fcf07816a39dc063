import path from "node:path";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import type { LocalContext, LocalService, RuleTarget } from "../runtime/context.ts";
import { FirehoseEmulator } from "./firehose-emulator.ts";
import { createLocalTransform } from "./local-transform.ts";
import { startMqttBroker } from "./mqtt-broker.ts";
import { createRejectionRecorder } from "./rejections.ts";
import { createRuleRouter } from "./rule-routing.ts";
import { localLakeFeed, startStreamLake } from "./stream-lake.ts";

/**
 * Local ingest: the MQTT broker (aedes, own worker thread) on `MQTT_PORT`, the IoT rules (`rule-routing.ts`),
 * and the `ingest` Firehose delivery stream (`firehose-emulator.ts`) running the SAME transformation handler as
 * on AWS with local adapters (`local-transform.ts`).
 */
export async function startIngest(context: LocalContext): Promise<LocalService> {
  const { config, status } = context;
  const storage = context.storage;
  if (!storage)
    throw new ConfigurationError("the ingest service needs the storage service to be started first");
  const { processor, deps, registry } = createLocalTransform(storage);

  const firehose = new FirehoseEmulator({
    streamName: "ingest",
    lakeDir: path.join(config.dataDir, "lake"),
    stateDir: path.join(config.dataDir, "firehose"),
    bufferBytes: config.firehoseBufferBytes,
    bufferSeconds: config.firehoseBufferSeconds,
    processor,
    rawCipher: storage.rawCipher,
    status,
    log: (message) => context.log("firehose", message),
  });
  const recovered = await firehose.recover();
  if (recovered.length > 0) {
    context.log("firehose", `delivered ${recovered.length} batch(es) left in the spool by an earlier run`);
  }
  // Lake feed `stream` (ADR 1001): matched messages reach the lake through the telemetry stream's lake writer, so
  // the Firehose stream only takes what no rule's Kinesis action carries (unknown topics, no device id), as on AWS
  // only the catch-all rules keep a Firehose action.
  const feed = localLakeFeed();
  const stream = context.telemetryStream;
  const streamFed = feed === "stream" && stream !== undefined;
  const firehoseTarget: RuleTarget = streamFed
    ? {
        name: firehose.name,
        catchAll: true,
        unmatchedOnly: true,
        deliver: (envelope) => firehose.deliver(envelope),
      }
    : firehose;
  context.ruleTargets.push(firehoseTarget);
  const lakeWriter = streamFed
    ? await startStreamLake(context, { stream, deps, registry, rawCipher: storage.rawCipher })
    : undefined;
  if (feed === "stream" && !streamFed)
    context.log("ingest", "lake feed `stream` needs the scoring service's stream; using the Firehose feed");
  const rejections = createRejectionRecorder({
    firehose,
    deidentifier: deps.deidentifier,
    status,
    log: (message) => context.log("rules", message),
  });

  const route = createRuleRouter({
    targets: () => context.ruleTargets,
    errorDir: path.join(config.dataDir, "rule-errors"),
    status,
    log: (message) => context.log("rules", message),
    onActionFailed: (failure) => rejections.ruleAction(failure),
  });
  let broker;
  try {
    broker = await startMqttBroker({
      host: config.host,
      port: config.mqttPort,
      onMessage: route,
      onClients: (connected) => status.set("mqtt.clients", connected),
      onRejected: (rejection) => {
        status.inc("mqtt.rejected");
        context.log(
          "mqtt",
          `publish refused at the broker: ${rejection.code} (${rejection.payloadBytes} bytes)`,
        );
        rejections.broker(rejection);
      },
      log: (message) => context.log("mqtt", message),
    });
  } catch (error) {
    await firehose.stop();
    await lakeWriter?.stop();
    throw error;
  }
  // With port 0 (tests), publish the port actually bound.
  config.mqttPort = broker.port;
  context.log(
    "ingest",
    `MQTT broker on ${config.host}:${broker.port}; lake feed ${streamFed ? "stream" : "firehose"}; Firehose buffer ${config.firehoseBufferBytes} B / ${config.firehoseBufferSeconds} s`,
  );

  return {
    name: "ingest",
    async stop() {
      // Broker first (no new messages; every received one reaches its actions), then flush the stream.
      await broker.close();
      await firehose.stop();
      await lakeWriter?.stop();
      const index = context.ruleTargets.indexOf(firehoseTarget);
      if (index >= 0) context.ruleTargets.splice(index, 1);
    },
  };
}
