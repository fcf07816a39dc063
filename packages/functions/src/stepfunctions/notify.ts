import middy from "@middy/core";
import { z } from "zod";
import { notifyChannel } from "@driftwatch/core/escalation/notify-channel";
import { systemClock } from "@driftwatch/core/ports/clock";
import { ESCALATION_METRICS } from "@driftwatch/core/shared/metric-names";
import { lazy } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { awsAckBaseUrl, awsNotifier, awsSigner, awsStore, type DepsProvider } from "./deps.ts";
import { parseTaskInput } from "./task-input.ts";

export const notifyInputSchema = z.object({
  incidentId: z.string().min(1),
  tier: z.object({ number: z.number().int().min(1), name: z.string().min(1) }).passthrough(),
  tierCount: z.number().int().min(1),
  round: z.number().int().min(1),
  channel: z.string().min(1),
});

/**
 * Task `Notify`: one tier's notification on one channel with a fresh acknowledgement link. Channel failures
 * propagate by error name (`ChannelUnavailableError` is retried by the state machine; anything else moves on
 * to the next channel).
 */
export function createNotifyHandler(
  getDeps: DepsProvider<"store" | "clock" | "notifier" | "signer" | "ackBaseUrl">,
) {
  const handle = async (event: unknown): Promise<{ status: string }> => {
    const input = parseTaskInput(notifyInputSchema, event, "Notify");
    const deps = await getDeps();
    try {
      const result = await notifyChannel(deps, input);
      if (result.status === "sent")
        metrics.addMetric(ESCALATION_METRICS.notificationsSent, MetricUnit.Count, 1);
      logger.info("notify", {
        incidentId: input.incidentId,
        tier: input.tier.number,
        round: input.round,
        channel: input.channel,
        status: result.status,
      });
      return { status: result.status };
    } catch (error) {
      metrics.addMetric(ESCALATION_METRICS.notificationAttemptsFailed, MetricUnit.Count, 1);
      logger.warn("notify failed", {
        incidentId: input.incidentId,
        channel: input.channel,
        error: (error as Error).name,
        code: (error as { code?: string }).code,
      });
      throw error;
    }
  };
  return withObservability(middy(handle));
}

export const handler = createNotifyHandler(
  lazy(async () => ({
    store: await awsStore(),
    clock: systemClock,
    notifier: await awsNotifier(),
    signer: await awsSigner(),
    ackBaseUrl: await awsAckBaseUrl(),
  })),
);
