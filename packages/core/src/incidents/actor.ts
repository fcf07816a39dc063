import { InvalidActorError } from "./errors.ts";

/**
 * Normalizes who acknowledged or resolved: printable, at most 64 characters. Operators' names or ids only; the
 * UI never asks for patient data.
 */
export function normalizeActor(raw: string | undefined | null, fallback?: string): string {
  const value = [...(raw ?? "")]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f && !`<>"'\``.includes(c))
    .join("")
    .trim()
    .slice(0, 64);
  if (value) return value;
  if (fallback) return fallback;
  throw new InvalidActorError("who acknowledged or resolved is required", {
    issues: [{ path: "by", message: "required" }],
  });
}
