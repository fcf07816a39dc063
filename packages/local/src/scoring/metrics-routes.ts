import type { MetricsStore } from "@driftwatch/core/ports/metrics-store";
import type { ThresholdsWriter } from "@driftwatch/core/ports/thresholds-store";
import { thresholdRuleSchema, thresholdScopeSchema } from "@driftwatch/core/thresholds/threshold-rule";
import { mergeParts } from "@driftwatch/core/window/stored-part";
import { json, type HttpRouter } from "../runtime/http-router.ts";

class BadRequest extends Error {
  readonly statusCode = 400;
  override name = "BadRequest";
}

function timeParam(value: string | null, name: string): number | undefined {
  if (value === null || value === "") return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new BadRequest(`${name} must be an ISO 8601 time or epoch milliseconds`);
  return ms;
}

/**
 * `GET /api/metrics?deviceId=…[&from=…&to=…]`: the stored window aggregates of a device, parts merged, as
 * `[{deviceId, metric, windowStart, windowEnd, count, sum, min, max, avg, stddev, maxScore, anomalies, …}]`.
 * `GET /api/thresholds`, `PUT /api/thresholds/:scope` (body: the rule), `DELETE /api/thresholds/:scope`.
 */
export function registerMetricsRoutes(
  http: HttpRouter,
  metrics: MetricsStore,
  thresholds: ThresholdsWriter,
  onThresholdsChanged: () => void,
): void {
  http.add("GET", "/api/metrics", async (req) => {
    const deviceId = req.query.get("deviceId");
    if (!deviceId) throw new BadRequest("deviceId is required, e.g. /api/metrics?deviceId=fan-1");
    const fromMs = timeParam(req.query.get("from"), "from");
    const toMs = timeParam(req.query.get("to"), "to");
    return json(200, mergeParts(await metrics.listParts(deviceId, { fromMs, toMs })));
  });
  http.add("GET", "/api/thresholds", async () => json(200, await thresholds.list()));
  http.add("PUT", "/api/thresholds/:scope", async (req, params) => {
    let body: unknown;
    try {
      body = JSON.parse(req.body || "{}");
    } catch {
      throw new BadRequest("the body must be a JSON threshold rule");
    }
    const parsed = thresholdRuleSchema.safeParse({ ...(body as object), scope: params.scope });
    if (!parsed.success) {
      throw new BadRequest(
        parsed.error.issues.map((i) => `${i.path.join(".") || "rule"}: ${i.message}`).join("; "),
      );
    }
    await thresholds.put(parsed.data);
    onThresholdsChanged();
    return json(200, parsed.data);
  });
  http.add("DELETE", "/api/thresholds/:scope", async (_req, params) => {
    if (!thresholdScopeSchema.safeParse(params.scope).success) throw new BadRequest("invalid scope");
    await thresholds.remove(params.scope);
    onThresholdsChanged();
    return { status: 204 };
  });
}
