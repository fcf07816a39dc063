import fs from "node:fs";
import type { Command } from "commander";
import { readLocalConfig } from "../../runtime/config.ts";
import { InvalidDeviceListError, parseDeviceList } from "../../storage/device-list.ts";

/** Thrown for anything the user can fix; the CLI prints the message without a stack. */
class DevicesCommandError extends Error {
  override name = "DevicesCommandError";
}

/** Where the running local instance listens: `--url`, else `HTTP_PORT` on 127.0.0.1. */
function baseUrl(option: string | undefined): string {
  if (option) return option.replace(/\/+$/, "");
  const config = readLocalConfig();
  return `http://${config.host}:${config.httpPort}`;
}

async function request(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === "ECONNREFUSED" || cause?.code === "ECONNRESET") {
      throw new DevicesCommandError(
        `no Driftwatch local instance is running at ${new URL(url).origin} (start one with \`npm start\`; ` +
          `set HTTP_PORT or --url if it listens elsewhere)`,
      );
    }
    throw new DevicesCommandError(`could not reach ${new URL(url).origin}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

export async function importDevices(file: string, options: { url?: string }): Promise<number> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new DevicesCommandError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DevicesCommandError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  let devices;
  try {
    devices = parseDeviceList(value);
  } catch (error) {
    if (error instanceof InvalidDeviceListError) throw new DevicesCommandError(`${file}: ${error.message}`);
    throw error;
  }
  const { status, body } = await request(`${baseUrl(options.url)}/api/devices`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(devices),
  });
  if (status !== 200) {
    const details = body as { message?: string; issues?: string[] };
    const issues = details?.issues?.length ? `\n  ${details.issues.join("\n  ")}` : "";
    throw new DevicesCommandError(
      `import failed (HTTP ${status}): ${details?.message ?? String(body)}${issues}`,
    );
  }
  return (body as { imported: number }).imported;
}

export function registerDevices(program: Command): void {
  const devices = program
    .command("devices")
    .description("Manage the device registry of the running local instance");
  devices
    .command("import")
    .argument("<file.json>", "JSON array of {deviceId, manufacturer, model, site?}")
    .option("--url <url>", "base URL of the local instance (default http://127.0.0.1:$HTTP_PORT)")
    .description("Register devices (idempotent: importing the same list again changes nothing)")
    .action(async (file: string, options: { url?: string }) => {
      const count = await importDevices(file, options);
      process.stdout.write(
        `imported ${count} device${count === 1 ? "" : "s"} into ${baseUrl(options.url)}\n`,
      );
    });
  devices
    .command("list")
    .option("--url <url>", "base URL of the local instance (default http://127.0.0.1:$HTTP_PORT)")
    .option("--json", "print the registry as JSON")
    .description("Print the registered devices")
    .action(async (options: { url?: string; json?: boolean }) => {
      const { status, body } = await request(`${baseUrl(options.url)}/api/devices`, { method: "GET" });
      if (status !== 200) throw new DevicesCommandError(`listing failed (HTTP ${status})`);
      const list = (
        body as { devices: { deviceId: string; manufacturer: string; model: string; site?: string }[] }
      ).devices;
      if (options.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else
        for (const d of list)
          process.stdout.write(`${d.deviceId}\t${d.manufacturer}\t${d.model}\t${d.site ?? ""}\n`);
    });
}
