import middy from "@middy/core";
import { z } from "zod";
import { alertSchema } from "@driftwatch/core/alerts/alert";
import { openOrFold, type OpenOrFoldResult } from "@driftwatch/core/incidents/open-or-fold";
import { systemClock } from "@driftwatch/core/ports/clock";
import { ESCALATION_METRICS } from "@driftwatch/core/shared/metric-names";
import { lazy } from "../shared/config.ts";
import { logger, metrics, MetricUnit, withObservability } from "../shared/observability.ts";
import { awsStore, type DepsProvider } from "./deps.ts";
import { parseTaskInput } from "./task-input.ts";

export const openIncidentInputSchema = z.object({ alert: alertSchema, executionName: z.string().min(1) });

/** Task `OpenOrFold`: opens the incident for the alert, or folds it into the open one (no new notification). */
export function createOpenIncidentHandler(getDeps: DepsProvider<"store" | "clock">) {
  const handle = async (event: unknown): Promise<OpenOrFoldResult> => {
    const input = parseTaskInput(openIncidentInputSchema, event, "OpenOrFold");
    const result = await openOrFold(await getDeps(), input.alert, input.executionName);
    metrics.addMetric(
      result.action === "opened" ? ESCALATION_METRICS.incidentsOpened : ESCALATION_METRICS.alertsFolded,
      MetricUnit.Count,
      1,
    );
    logger.info("open or fold", {
      incidentId: result.incidentId,
      action: result.action,
      alertId: input.alert.alertId,
    });
    return result;
  };
  return withObservability(middy(handle));
}

export const handler = createOpenIncidentHandler(
  lazy(async () => ({ store: await awsStore(), clock: systemClock })),
);
