import middy from "@middy/core";
import { z } from "zod";
import { beginAckWait } from "@driftwatch/core/escalation/await-ack";
import { systemClock } from "@driftwatch/core/ports/clock";
import { lazy } from "../shared/config.ts";
import { logger, withObservability } from "../shared/observability.ts";
import { awsStore, awsTokens, type DepsProvider } from "./deps.ts";
import { parseTaskInput } from "./task-input.ts";

export const awaitAckInputSchema = z.object({
  taskToken: z.string().min(1),
  incidentId: z.string().min(1),
  tier: z.number().int().min(1),
  round: z.number().int().min(1),
});

/**
 * Task `AwaitAck` (`lambda:invoke.waitForTaskToken`): stores the task token on the incident; the acknowledge
 * or resolve handler later sends `SendTaskSuccess` with it. The state machine's timeout for this task is the
 * tier's acknowledgement timeout (`TimeoutSecondsPath`).
 */
export function createAwaitAckHandler(getDeps: DepsProvider<"store" | "clock" | "tokens">) {
  const handle = async (event: unknown): Promise<{ waiting: boolean }> => {
    const input = parseTaskInput(awaitAckInputSchema, event, "AwaitAck");
    const result = await beginAckWait(await getDeps(), input);
    logger.info("awaiting acknowledgement", {
      incidentId: input.incidentId,
      tier: input.tier,
      round: input.round,
      waiting: result.waiting,
    });
    return result;
  };
  return withObservability(middy(handle));
}

export const handler = createAwaitAckHandler(
  lazy(async () => ({ store: await awsStore(), clock: systemClock, tokens: await awsTokens() })),
);
