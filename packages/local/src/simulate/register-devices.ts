import type { Device } from "@driftwatch/core/telemetry/device";
import { DriftwatchError } from "@driftwatch/core/shared/errors";
import { cliToken } from "../cli/api-client.ts";
import { LocalKeyMissingError } from "../runtime/local-identity.ts";

/** The local instance's registry API could not be reached or rejected the list. */
export class DeviceRegistrationError extends DriftwatchError {}

/**
 * Imports devices into a running local instance (`POST /api/devices`, idempotent), as `devices import` does: signed
 * as an operator with the instance's local key (or `$DRIFTWATCH_TOKEN`), like every CLI call of the operator API.
 */
export async function registerDevicesOverHttp(baseUrl: string, devices: readonly Device[]): Promise<number> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  try {
    headers.authorization = `Bearer ${await cliToken({ role: "operator" })}`;
  } catch (error) {
    // No key yet means no instance ever ran with this data directory: the request below then says so.
    if (!(error instanceof LocalKeyMissingError)) throw error;
  }
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/api/devices`, {
      method: "POST",
      headers,
      body: JSON.stringify(devices),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    throw new DeviceRegistrationError(
      code === "ECONNREFUSED"
        ? `no Driftwatch local instance at ${baseUrl} to register devices with (start one with \`npm start\`; set HTTP_PORT or --http)`
        : `could not register devices at ${baseUrl}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const text = await response.text();
  if (response.status !== 200) {
    throw new DeviceRegistrationError(
      `registering devices failed (HTTP ${response.status}): ${text.slice(0, 500)}`,
    );
  }
  return (JSON.parse(text) as { imported: number }).imported;
}
