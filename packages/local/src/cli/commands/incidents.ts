import type { Command } from "commander";
import type { IncidentView } from "@driftwatch/core/incidents/incident-view";
import { readLocalConfig } from "../../runtime/config.ts";

/** Something the user can fix (no instance running, unknown incident); printed without a stack. */
class IncidentsCommandError extends Error {
  override name = "IncidentsCommandError";
}

function baseUrl(option: string | undefined): string {
  if (option) return option.replace(/\/+$/, "");
  const config = readLocalConfig();
  return `http://${config.host}:${config.httpPort}`;
}

async function call(url: string, init: RequestInit = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET") {
      throw new IncidentsCommandError(
        `no Driftwatch local instance is running at ${new URL(url).origin} (start one with \`npm start\`; set HTTP_PORT or --url)`,
      );
    }
    throw new IncidentsCommandError(`could not reach ${new URL(url).origin}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  if (!response.ok) {
    const message = (body as { message?: string })?.message ?? text;
    throw new IncidentsCommandError(
      `${init.method ?? "GET"} ${new URL(url).pathname} failed (${response.status}): ${message}`,
    );
  }
  return body;
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
    .option("--url <url>", "base URL of the instance (default http://127.0.0.1:$HTTP_PORT)")
    .action(async (options: { json?: boolean; url?: string }) => {
      try {
        const list = (await call(`${baseUrl(options.url)}/api/incidents`)) as IncidentView[];
        process.stdout.write(options.json ? `${JSON.stringify(list, null, 2)}\n` : table(list));
      } catch (error) {
        fail(error);
      }
    });
  for (const action of ["ack", "resolve"] as const) {
    incidents
      .command(`${action} <incidentId>`)
      .description(
        action === "ack" ? "Acknowledge an incident (stops its escalation)" : "Resolve (close) an incident",
      )
      .option("--by <name>", "who is acting", process.env.USER || "local-operator")
      .option("--url <url>", "base URL of the instance")
      .option("--json", "print JSON")
      .action(async (incidentId: string, options: { by: string; url?: string; json?: boolean }) => {
        try {
          const result = (await call(
            `${baseUrl(options.url)}/api/incidents/${encodeURIComponent(incidentId)}/${action}`,
            {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ by: options.by }),
            },
          )) as { outcome: string; incident: IncidentView };
          process.stdout.write(
            options.json
              ? `${JSON.stringify(result, null, 2)}\n`
              : `${result.outcome}: ${result.incident.id} (${result.incident.state})\n`,
          );
        } catch (error) {
          fail(error);
        }
      });
  }
}

function fail(error: unknown): void {
  if (error instanceof IncidentsCommandError) {
    process.stderr.write(`driftwatch: ${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  throw error;
}
