import crypto from "node:crypto";
import type { Deidentifier } from "@driftwatch/core/privacy/deidentifier";
import { encodeEnvelope } from "@driftwatch/core/telemetry/envelope";
import { toErrorRecord, type RejectionStage } from "@driftwatch/core/telemetry/error-record";
import { RejectedMessageError } from "@driftwatch/core/telemetry/ingest-errors";
import type { StatusBoard } from "../runtime/status-board.ts";
import type { FirehoseEmulator } from "./firehose-emulator.ts";
import type { BrokerRejection, PublishedMessage } from "./mqtt-broker.ts";

const brokerReasons: Record<BrokerRejection["code"], string> = {
  PAYLOAD_TOO_LARGE: "the payload exceeds AWS IoT Core's 128 KB message limit; refused by the broker",
  TOPIC_TOO_LONG: "the topic exceeds AWS IoT Core's 256-byte limit; refused by the broker",
  TOO_MANY_TOPIC_LEVELS:
    "the topic has more than 7 forward slashes (AWS IoT Core's limit); refused by the broker",
};

/**
 * Turns rejections made before the transformation into error records in `lake/errors/` (through the stream,
 * `putErrorRecord`), built by core's `toErrorRecord` like the transformation's own: code, reason, topic pattern
 * and token, payload size and hash — never the payload, the topic or a device id in clear.
 */
export function createRejectionRecorder(deps: {
  firehose: FirehoseEmulator;
  deidentifier?: Deidentifier;
  status?: StatusBoard;
  log?: (message: string) => void;
}) {
  const put = (record: object, stage: RejectionStage) => {
    deps.status?.inc(`rejected.${stage}`);
    deps.firehose
      .putErrorRecord(record)
      .catch((error: Error) =>
        deps.log?.(`a ${stage} rejection could not be recorded in errors/: ${error.message}`),
      );
  };
  return {
    broker(rejection: BrokerRejection): void {
      const error = new RejectedMessageError(rejection.code, brokerReasons[rejection.code]);
      const record = toErrorRecord(
        { topic: rejection.topic, receivedAt: rejection.receivedAt, payload: "" },
        error,
        `broker-${crypto.randomUUID()}`,
        { deidentifier: deps.deidentifier, stage: "broker" },
      );
      record.payloadBytes = rejection.payloadBytes;
      record.payloadSha256 = rejection.payloadSha256;
      put(record, "broker");
    },
    ruleAction(failure: { rule: string; action: string; message: PublishedMessage; error: Error }): void {
      const tooLarge = failure.error.name === "FirehoseRecordTooLargeError";
      const error = new RejectedMessageError(
        tooLarge ? "FIREHOSE_RECORD_TOO_LARGE" : "RULE_ACTION_FAILED",
        `rule ${failure.rule}: action ${failure.action} failed after its retries (${failure.error.name})`,
      );
      const { message } = failure;
      const record = toErrorRecord(
        encodeEnvelope(message.topic, message.payload, message.receivedAt),
        error,
        `rule-${crypto.randomUUID()}`,
        { deidentifier: deps.deidentifier, stage: tooLarge ? "firehose" : "rule" },
      );
      put(record, tooLarge ? "firehose" : "rule");
    },
  };
}
