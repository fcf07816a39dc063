import type { Command } from "commander";
import type { IncidentView } from "@driftwatch/core/incidents/incident-view";

async function call(
  method: string,
  route: string,
  options: { url?: string; user?: string; query?: Record<string, string | undefined> } = {},
): Promise<unknown> {
  const { apiCall } = await import("../api-client.ts");
  return apiCall(method, route, { ...options, timeoutMs: 30_000 });
}

function table(incidents: IncidentView[]): string {
  if (incidents.length === 0) return "no incidents\n";
  const rows = incidents.map((i) => [
    i.id,
    i.deviceId,
    i.rule,
    i.state,
    `${i.tier}${i.round > 1 ? `/r${i.round}` : ""}`,
    String(i.occurrences),
    i.openedAt,
    i.acknowledgedBy ? `${i.acknowledgedBy} @ ${i.acknowledgedAt}` : "",
  ]);
  const header = ["ID", "DEVICE", "RULE", "STATE", "TIER", "OCC", "OPENED", "ACKNOWLEDGED"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/**
 * `driftwatch incidents [--json]` lists every incident of the running local instance
 * (`{id, deviceId, rule, state, tier, occurrences, openedAt, acknowledgedAt, acknowledgedBy, timeline, …}`);
 * `driftwatch incidents ack <id> [--by name]` and `driftwatch incidents resolve <id> [--by name]` act on one.
 */
export function registerIncidents(program: Command): void {
  const incidents = program
    .command("incidents")
    .description("List the incidents of the running local instance (HTTP 127.0.0.1:HTTP_PORT)")
    .option("--json", "print JSON")
    .option("--state <state>", "only incidents in this state: open, acknowledged, unacknowledged, resolved")
    .option("--device <id>", "only this device's incidents")
    .option("--rule <rule>", "only this rule's incidents, e.g. bound:pressure:high")
    .option("--url <url>", "base URL of the instance (default http://127.0.0.1:$HTTP_PORT)")
    .action(
      async (options: { json?: boolean; url?: string; state?: string; device?: string; rule?: string }) => {
        try {
          const list = (await call("GET", "/api/incidents", {
            url: options.url,
            query: { state: options.state, deviceId: options.device, rule: options.rule, limit: "10000" },
          })) as IncidentView[];
          process.stdout.write(options.json ? `${JSON.stringify(list, null, 2)}\n` : table(list));
        } catch (error) {
          fail(error);
        }
      },
    );
  for (const action of ["ack", "resolve"] as const) {
    incidents
      .command(`${action} <incidentId>`)
      .description(
        action === "ack" ? "Acknowledge an incident (stops its escalation)" : "Resolve (close) an incident",
      )
      .option(
        "--by <name>",
        "who is acting (the user of the CLI's signed token)",
        process.env.USER || "local-operator",
      )
      .option("--url <url>", "base URL of the instance")
      .option("--json", "print JSON")
      .action(async (incidentId: string, options: { by: string; url?: string; json?: boolean }) => {
        try {
          const result = (await call("POST", `/api/incidents/${encodeURIComponent(incidentId)}/${action}`, {
            url: options.url,
            user: options.by,
          })) as IncidentView & { outcome: string };
          process.stdout.write(
            options.json
              ? `${JSON.stringify(result, null, 2)}\n`
              : `${result.outcome}: ${result.id} (${result.state})\n`,
          );
        } catch (error) {
          fail(error);
        }
      });
  }
}

function fail(error: unknown): void {
  if (error instanceof Error && error.name === "CliError") {
    process.stderr.write(`driftwatch: ${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  throw error;
}
