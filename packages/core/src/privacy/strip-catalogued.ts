import { formatPath } from "../telemetry/safe-issues.ts";
import type { PhiCatalogue } from "./deidentifier.ts";
import { createFieldMatcher } from "./field-matcher.ts";

/**
 * A copy of `value` with every catalogued field (vaulted and tokenized alike) removed at any depth, for when no
 * token key is at hand. Names match as the de-identifier's do (case and separators ignored, near misses included). With a `Deidentifier`, prefer its `strip`, which keeps identifiers as tokens.
 */
export function stripCatalogued(
  value: unknown,
  catalogue: PhiCatalogue,
): { value: unknown; removed: string[] } {
  const matcher = createFieldMatcher([...catalogue.tokenize, ...catalogue.vault]);
  const removed: string[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (path.length > 64) return null; // payloads are depth-limited before they get here
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      if (matcher.match(key) !== undefined) removed.push(formatPath([...path, key]));
      else out[key] = walk(child, [...path, key]);
    }
    return out;
  };
  return { value: walk(value, []), removed };
}
