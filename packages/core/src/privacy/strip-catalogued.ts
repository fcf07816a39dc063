import { formatPath } from "../telemetry/safe-issues.ts";
import type { PhiCatalogue } from "./deidentifier.ts";

/**
 * A copy of `value` with every catalogued field (vaulted and tokenized alike) removed at any depth, for when no
 * token key is at hand. With a `Deidentifier`, prefer its `strip`, which keeps identifiers as tokens.
 */
export function stripCatalogued(
  value: unknown,
  catalogue: PhiCatalogue,
): { value: unknown; removed: string[] } {
  const names = new Set([...catalogue.vault, ...catalogue.tokenize].map((field) => field.toLowerCase()));
  const removed: string[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      if (names.has(key.toLowerCase())) removed.push(formatPath([...path, key]));
      else out[key] = walk(child, [...path, key]);
    }
    return out;
  };
  return { value: walk(value, []), removed };
}
