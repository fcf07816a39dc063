import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ChannelRejectedError, ChannelUnavailableError } from "@driftwatch/core/escalation/errors";
import type { Notification } from "@driftwatch/core/escalation/notification";
import { createSnsNotifier, smsText } from "../../src/adapters/sns-notifier.ts";
import { awsError } from "./aws-error-fixtures.ts";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:driftwatch-prod-tier-1";

const notification: Notification = {
  incidentId: "inc-1",
  tier: 1,
  tierName: "on-call",
  tierCount: 2,
  round: 1,
  channel: "sns:tier-1",
  subject: "Driftwatch: anomaly on dev-0001",
  body: "temperature unusually high\nAcknowledge: https://ack.example/ack?token=t",
  ackUrl: "https://ack.example/ack?token=t",
  ackExpiresAt: "2026-01-02T00:00:00.000Z",
  deviceId: "dev-0001",
  rule: "anomaly",
  kind: "anomaly",
  occurrences: 1,
  openedAt: "2026-01-01T00:00:00.000Z",
  createdAt: "2026-01-01T00:00:01.000Z",
};

describe("createSnsNotifier", () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());
  // The unit pool is not isolated: restore the SDK's own send() for the next file in this worker.
  afterAll(() => sns.restore());

  it("publishes exactly one message to the tier's topic: subject, e-mail body, SMS text, attributes", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    await createSnsNotifier(new SNSClient({}), { "tier-1": TOPIC }).send(notification);

    expect(sns.calls()).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).toEqual({
      TopicArn: TOPIC,
      Subject: "Driftwatch: anomaly on dev-0001",
      MessageStructure: "json",
      Message: JSON.stringify({
        default: notification.body,
        email: notification.body,
        sms: "Driftwatch tier 1: anomaly on dev-0001 (anomaly). Ack: https://ack.example/ack?token=t",
      }),
      MessageAttributes: {
        incidentId: { DataType: "String", StringValue: "inc-1" },
        tier: { DataType: "Number", StringValue: "1" },
      },
    });
    expect(smsText(notification)).toContain(notification.ackUrl);
  });

  it("rejects a channel without a topic before calling SNS", async () => {
    const error = await createSnsNotifier(new SNSClient({}), { "tier-1": TOPIC })
      .send({ ...notification, channel: "sns:tier-9" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelRejectedError);
    expect((error as ChannelRejectedError).code).toBe("UNKNOWN_TOPIC");
    expect(sns.calls()).toHaveLength(0);
  });

  it("surfaces throttling as ChannelUnavailableError (the state machine retries it by name), then succeeds", async () => {
    sns.on(PublishCommand).rejectsOnce(awsError("Throttled")).resolves({ MessageId: "m-1" });
    const notifier = createSnsNotifier(new SNSClient({}), { "tier-1": TOPIC });

    const error = await notifier.send(notification).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelUnavailableError);
    expect((error as Error).name).toBe("ChannelUnavailableError");
    expect((error as ChannelUnavailableError).code).toBe("Throttled");

    await notifier.send(notification);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it("reports access denied as ChannelRejectedError naming the SNS error (moves on to the next channel)", async () => {
    sns.on(PublishCommand).rejects(awsError("AuthorizationErrorException"));
    const error = await createSnsNotifier(new SNSClient({}), { "tier-1": TOPIC })
      .send(notification)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelRejectedError);
    expect((error as Error).message).toBe("SNS rejected the notification (AuthorizationErrorException)");
    expect((error as ChannelRejectedError).code).toBe("AuthorizationErrorException");
    expect((error as Error).cause).toMatchObject({ name: "AuthorizationErrorException" });
  });

  it("treats a 5xx as ChannelUnavailableError", async () => {
    sns.on(PublishCommand).rejects(awsError("InternalErrorException", "server"));
    await expect(
      createSnsNotifier(new SNSClient({}), { "tier-1": TOPIC }).send(notification),
    ).rejects.toBeInstanceOf(ChannelUnavailableError);
  });
});
