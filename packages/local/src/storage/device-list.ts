import type { ZodIssue } from "zod";
import { deviceListSchema, type Device } from "@driftwatch/core/telemetry/device";

/** A device list that cannot be imported; `issues` name the index and field of each problem. */
export class InvalidDeviceListError extends Error {
  override name = "InvalidDeviceListError";
  readonly statusCode = 400;
  constructor(readonly issues: readonly string[]) {
    super(`invalid device list:\n  ${issues.join("\n  ")}`);
  }
}

function issuePath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out === "" ? "(the list)" : out;
}

function describe(issue: ZodIssue): string {
  if (issue.code === "invalid_type") {
    const expected = issue.expected === "array" ? "a JSON array of devices" : issue.expected;
    return issue.received === "undefined"
      ? `is required (${expected})`
      : `must be ${expected}, got ${issue.received}`;
  }
  if (issue.code === "too_small" && issue.type === "string") return "must not be empty";
  if (issue.code === "too_big" && issue.type === "string")
    return `must be at most ${issue.maximum} characters`;
  return issue.message;
}

/**
 * Validates a `devices import` list `[{deviceId, manufacturer, model, site?}]` with core's `deviceListSchema`.
 * Errors read like `[2].manufacturer is required (string)`; a deviceId listed twice with different attributes
 * is an error, an exact repeat is ignored (imports are idempotent). Unknown attributes are dropped.
 */
export function parseDeviceList(value: unknown): Device[] {
  const result = deviceListSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidDeviceListError(
      result.error.issues.map((issue) => `${issuePath(issue.path)} ${describe(issue)}`),
    );
  }
  const byId = new Map<string, { index: number; device: Device }>();
  const issues: string[] = [];
  result.data.forEach((device, index) => {
    const seen = byId.get(device.deviceId);
    if (!seen) byId.set(device.deviceId, { index, device });
    else if (JSON.stringify(seen.device) !== JSON.stringify(device)) {
      issues.push(`[${index}].deviceId repeats [${seen.index}].deviceId with different attributes`);
    }
  });
  if (issues.length > 0) throw new InvalidDeviceListError(issues);
  return [...byId.values()].map(({ device }) => device);
}
