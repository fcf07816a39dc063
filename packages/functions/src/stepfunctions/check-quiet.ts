import middy from "@middy/core";
import { z } from "zod";
import { checkQuietPeriod } from "@driftwatch/core/incidents/quiet-period";
import { systemClock } from "@driftwatch/core/ports/clock";
import { ESCALATION_METRICS } from "@driftwatch/core/shared/metric-names";
import { lazy } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { awsStore, awsTokens, type DepsProvider } from "./deps.ts";
import { parseTaskInput } from "./task-input.ts";

export const checkQuietInputSchema = z.object({
  incidentId: z.string().min(1),
  quietSeconds: z.number().int().min(1),
});

/** Task `CheckQuiet`: ends the escalation when the incident is resolved, or resolves it after the quiet period. */
export function createCheckQuietHandler(getDeps: DepsProvider<"store" | "clock" | "tokens">) {
  const handle = async (event: unknown): Promise<{ done: boolean; waitSeconds: number }> => {
    const input = parseTaskInput(checkQuietInputSchema, event, "CheckQuiet");
    const result = await checkQuietPeriod(await getDeps(), input);
    if (result.done) metrics.addMetric(ESCALATION_METRICS.incidentsClosed, MetricUnit.Count, 1);
    logger.info("quiet period check", { incidentId: input.incidentId, ...result });
    return result;
  };
  return withObservability(middy(handle));
}

export const handler = createCheckQuietHandler(
  lazy(async () => ({ store: await awsStore(), clock: systemClock, tokens: await awsTokens() })),
);
