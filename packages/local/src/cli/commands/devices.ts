import fs from "node:fs";
import type { Command } from "commander";
import { apiCall, baseUrl, CliError, formatTable } from "../api-client.ts";
import { InvalidDeviceListError, parseDeviceList } from "../../storage/device-list.ts";

/** Thrown for anything the user can fix; the CLI prints the message without a stack. */
class DevicesCommandError extends Error {
  override name = "DevicesCommandError";
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
  try {
    const result = await apiCall<{ imported: number }>("POST", "/api/devices", {
      url: options.url,
      body: devices,
    });
    return result.imported;
  } catch (error) {
    if (error instanceof CliError) throw new DevicesCommandError(`import failed: ${error.message}`);
    throw error;
  }
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
      const list = await apiCall<
        {
          deviceId: string;
          manufacturer: string;
          model: string;
          site?: string;
          lastSeen?: string;
          openIncidents: number;
        }[]
      >("GET", "/api/devices", { url: options.url });
      if (options.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else
        process.stdout.write(
          formatTable(
            ["DEVICE", "MANUFACTURER", "MODEL", "SITE", "LAST SEEN", "OPEN"],
            list.map((d) => [
              d.deviceId,
              d.manufacturer,
              d.model,
              d.site ?? "",
              d.lastSeen ?? "",
              String(d.openIncidents),
            ]),
          ),
        );
    });
}
