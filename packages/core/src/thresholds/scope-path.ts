import { ValidationError } from "../shared/errors.ts";

/**
 * Threshold scopes as the API and CLI name them — paths — and as the thresholds table keys them:
 *
 *   global                      ↔ global
 *   manufacturers/{m}           ↔ manufacturer#{m}
 *   models/{m}/{model}          ↔ model#{m}#{model}
 *   devices/{deviceId}          ↔ device#{deviceId}
 *
 * Names are single path segments (no `/`) and carry no `#` (the key separator).
 */
export class InvalidScopeError extends ValidationError {
  readonly statusCode = 400;
}

export type ScopeLevel = "global" | "manufacturer" | "model" | "device";

export interface ParsedScope {
  level: ScopeLevel;
  /** `global`, `manufacturers/acme`, … (canonical path form). */
  path: string;
  /** The thresholds table key: `global`, `manufacturer#acme`, … */
  key: string;
}

const SCOPE_FORMS =
  "global, manufacturers/{manufacturer}, models/{manufacturer}/{model} or devices/{deviceId}";
const NAME = /^[^/#\s][^/#]{0,127}$/;

function invalid(reason: string): InvalidScopeError {
  return new InvalidScopeError(`scope ${reason}: use ${SCOPE_FORMS}`, {
    issues: [{ path: "scope", message: reason }],
  });
}

/** Parses a scope path (segments may be percent-encoded). Throws `InvalidScopeError` naming `scope`. */
export function parseScopePath(path: string): ParsedScope {
  const raw = path.replace(/^\/+|\/+$/g, "");
  let parts: string[];
  try {
    parts = raw.split("/").map((part) => decodeURIComponent(part));
  } catch {
    throw invalid("has malformed percent-encoding");
  }
  if (parts.some((part) => !NAME.test(part))) throw invalid("has an empty or invalid name (no '/', '#')");
  const [kind, ...names] = parts;
  if (kind === "global" && names.length === 0) return { level: "global", path: "global", key: "global" };
  if (kind === "manufacturers" && names.length === 1)
    return { level: "manufacturer", path: `manufacturers/${names[0]}`, key: `manufacturer#${names[0]}` };
  if (kind === "models" && names.length === 2)
    return {
      level: "model",
      path: `models/${names[0]}/${names[1]}`,
      key: `model#${names[0]}#${names[1]}`,
    };
  if (kind === "devices" && names.length === 1)
    return { level: "device", path: `devices/${names[0]}`, key: `device#${names[0]}` };
  throw invalid(`"${raw.slice(0, 80)}" is not a known scope`);
}

/** The path form of a table key (`device#pump-7` → `devices/pump-7`). */
export function scopePathOf(key: string): string {
  if (key === "global") return "global";
  const [kind, ...names] = key.split("#");
  if (kind === "manufacturer" && names.length === 1) return `manufacturers/${names[0]}`;
  if (kind === "model" && names.length === 2) return `models/${names[0]}/${names[1]}`;
  if (kind === "device" && names.length >= 1) return `devices/${names.join("#")}`;
  throw new InvalidScopeError(`not a scope key: ${key.slice(0, 80)}`, {
    issues: [{ path: "scope", message: "not a scope key" }],
  });
}

/** Path for URLs: each name percent-encoded (`models/acme/x%201`). */
export function encodeScopePath(path: string): string {
  return path
    .split("/")
    .map((part) => encodeURIComponent(part))
    .join("/");
}
