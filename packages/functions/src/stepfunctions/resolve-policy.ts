import middy from "@middy/core";
import { z } from "zod";
import { alertSchema } from "@driftwatch/core/alerts/alert";
import { resolvePolicy, toExecutionPolicy, type ExecutionPolicy } from "@driftwatch/core/escalation/policy";
import { systemClock } from "@driftwatch/core/ports/clock";
import { lazy } from "../shared/config.ts";
import { logger, withObservability } from "../shared/observability.ts";
import { awsPolicies, awsStore, type DepsProvider } from "./deps.ts";
import { parseTaskInput } from "./task-input.ts";

export const resolvePolicyInputSchema = z.object({ incidentId: z.string().min(1), alert: alertSchema });

/**
 * Task `ResolvePolicy`: model > manufacturer > default policy for the alert's device, in the shape the state
 * machine iterates (tier numbers and counts precomputed); recorded on the incident.
 */
export function createResolvePolicyHandler(
  getDeps: DepsProvider<"store" | "clock" | "catalogue" | "overrides">,
) {
  const handle = async (event: unknown): Promise<ExecutionPolicy> => {
    const input = parseTaskInput(resolvePolicyInputSchema, event, "ResolvePolicy");
    const deps = await getDeps();
    const { policy, scope } = resolvePolicy(deps.catalogue, input.alert);
    const execution = toExecutionPolicy(policy, scope, deps.overrides);
    await deps.store.update(input.incidentId, {
      set: { policyId: policy.id },
      entry: {
        at: new Date(deps.clock.now()).toISOString(),
        type: "policy",
        detail: `${scope}:${policy.id}`,
      },
    });
    logger.info("policy resolved", {
      incidentId: input.incidentId,
      policyId: policy.id,
      scope,
      tiers: execution.tierCount,
    });
    return execution;
  };
  return withObservability(middy(handle));
}

export const handler = createResolvePolicyHandler(
  lazy(async () => ({ store: await awsStore(), clock: systemClock, ...(await awsPolicies()) })),
);
