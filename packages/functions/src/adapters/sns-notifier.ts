import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { parseChannel } from "@driftwatch/core/escalation/channel";
import { ChannelRejectedError, ChannelUnavailableError } from "@driftwatch/core/escalation/errors";
import type { Notification } from "@driftwatch/core/escalation/notification";
import type { Notifier } from "@driftwatch/core/ports/notifier";

/** Errors SNS returns for requests that can never succeed as sent. */
const PERMANENT = new Set([
  "NotFoundException",
  "NotFound",
  "InvalidParameterException",
  "InvalidParameter",
  "InvalidParameterValueException",
  "AuthorizationErrorException",
  "AuthorizationError",
  "KMSDisabledException",
  "KMSNotFoundException",
  "KMSInvalidStateException",
  "KMSAccessDeniedException",
  "ValidationException",
]);

/** The SMS text: short, with the acknowledgement link. */
export function smsText(n: Notification): string {
  return `Driftwatch tier ${n.tier}: ${n.kind} on ${n.deviceId} (${n.rule}). Ack: ${n.ackUrl}`;
}

/**
 * `sns:<name>` channels: one SNS topic per tier (KMS-encrypted), with e-mail and SMS subscriptions from the
 * stage config. `topics` maps the channel target (`tier-1`) to the topic ARN. E-mail gets subject + body, SMS a
 * short text (message structure `json`).
 */
export function createSnsNotifier(client: SNSClient, topics: Record<string, string>): Notifier {
  return {
    async send(notification) {
      const { target } = parseChannel(notification.channel);
      const topicArn = topics[target];
      if (!topicArn) {
        throw new ChannelRejectedError(`no SNS topic for channel ${notification.channel}`, {
          code: "UNKNOWN_TOPIC",
        });
      }
      try {
        await client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: notification.subject,
            MessageStructure: "json",
            Message: JSON.stringify({
              default: notification.body,
              email: notification.body,
              sms: smsText(notification),
            }),
            MessageAttributes: {
              incidentId: { DataType: "String", StringValue: notification.incidentId },
              tier: { DataType: "Number", StringValue: String(notification.tier) },
            },
          }),
        );
      } catch (error) {
        const name = (error as Error).name;
        if (PERMANENT.has(name)) {
          throw new ChannelRejectedError(`SNS rejected the notification (${name})`, {
            cause: error,
            code: name,
          });
        }
        throw new ChannelUnavailableError(`SNS publish failed (${name})`, { cause: error, code: name });
      }
    },
  };
}
