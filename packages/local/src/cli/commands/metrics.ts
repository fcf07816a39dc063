import type { Command } from "commander";
import { WINDOW_AGGREGATE_FIELDS, type WindowAggregateView } from "@driftwatch/core/window/stored-part";

/**
 * Fetches a device's stored window aggregates from the running local instance
 * (`GET /api/devices/{deviceId}/metrics`, signed with the local key).
 */
export async function fetchMetrics(
  deviceId: string,
  options: { url?: string; from?: string; to?: string } = {},
): Promise<WindowAggregateView[]> {
  const { apiCall } = await import("../api-client.ts");
  return apiCall<WindowAggregateView[]>("GET", `/api/devices/${encodeURIComponent(deviceId)}/metrics`, {
    url: options.url,
    query: { from: options.from, to: options.to, eventTimes: "true" },
    timeoutMs: 60_000,
  });
}

/** The fields of `metrics --json`, in order: DESIGN.md's external contract, nothing more. */
export const METRICS_JSON_FIELDS = WINDOW_AGGREGATE_FIELDS;

/**
 * The rows as `metrics --json` prints them: exactly the contract's fields (the API's view also carries the
 * event-time span, `firstEventAt`/`lastEventAt`, which `--event-times` adds back).
 */
export function toMetricsJson(
  rows: readonly WindowAggregateView[],
  options: { eventTimes?: boolean } = {},
): Record<string, unknown>[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const field of METRICS_JSON_FIELDS) out[field] = row[field];
    if (options.eventTimes) {
      out.firstEventAt = row.firstEventAt;
      out.lastEventAt = row.lastEventAt;
    }
    return out;
  });
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));

export function formatMetricsTable(rows: readonly WindowAggregateView[]): string {
  if (rows.length === 0)
    return "no stored window aggregates for this device (yet: windows are written when they close)\n";
  const header = [
    "windowStart",
    "metric",
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "stddev",
    "maxScore",
    "anomalies",
  ];
  const body = rows.map((r) => [
    r.windowStart,
    r.metric,
    fmt(r.count),
    fmt(r.sum),
    fmt(r.min),
    fmt(r.max),
    fmt(r.avg),
    fmt(r.stddev),
    fmt(r.maxScore),
    fmt(r.anomalies),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), ...body.map(line)].join("\n") + "\n";
}

export function registerMetrics(program: Command): void {
  program
    .command("metrics")
    .description(
      "Print a device's stored window aggregates (count, sum, min, max, avg, stddev, max score, anomalies)",
    )
    .requiredOption("--device <id>", "device id (weather: the station id; metrics are the sensor types)")
    .option(
      "--json",
      "print the JSON array of {deviceId, metric, windowStart, windowEnd, count, sum, min, max, avg, stddev, maxScore, anomalies} (times ISO 8601)",
    )
    .option("--event-times", "with --json: add each window's event-time span (firstEventAt, lastEventAt)")
    .option("--from <time>", "first window start (ISO 8601 or epoch ms)")
    .option("--to <time>", "last window start (ISO 8601 or epoch ms)")
    .option("--url <url>", "base URL of the local instance (default http://127.0.0.1:$HTTP_PORT)")
    .action(
      async (options: {
        device: string;
        json?: boolean;
        eventTimes?: boolean;
        from?: string;
        to?: string;
        url?: string;
      }) => {
        const rows = await fetchMetrics(options.device, options);
        process.stdout.write(
          options.json
            ? `${JSON.stringify(toMetricsJson(rows, { eventTimes: options.eventTimes }), null, 2)}\n`
            : formatMetricsTable(rows),
        );
      },
    );
}
