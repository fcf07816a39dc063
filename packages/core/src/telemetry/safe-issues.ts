import type { ZodIssue } from "zod";
import type { Issue } from "./ingest-errors.ts";

const SAFE_SEGMENT = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Formats a path for error records. Object keys come from the payload, so a key that does not look like a
 * field name (it could be a value someone used as a key) is replaced by `*`.
 */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((segment) =>
      typeof segment === "number" ? `[${segment}]` : SAFE_SEGMENT.test(segment) ? segment : "*",
    )
    .join(".")
    .replace(/\.\[/g, "[");
}

/**
 * Describes a zod issue without echoing the offending value. zod's own messages for some issue kinds quote the
 * received value (enums, literals, custom refinements), so messages are rebuilt from the issue's structure.
 */
export function describeIssue(issue: ZodIssue): Issue {
  return { path: formatPath(issue.path), message: issueMessage(issue) };
}

function issueMessage(issue: ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.received === "undefined"
        ? `required (${issue.expected})`
        : `expected ${issue.expected}, received ${issue.received}`;
    case "too_small":
      return issue.type === "string"
        ? `must be at least ${String(issue.minimum)} characters`
        : issue.type === "array" || issue.type === "set"
          ? `must have at least ${String(issue.minimum)} items`
          : `must be ${issue.inclusive ? ">=" : ">"} ${String(issue.minimum)}`;
    case "too_big":
      return issue.type === "string"
        ? `must be at most ${String(issue.maximum)} characters`
        : issue.type === "array" || issue.type === "set"
          ? `must have at most ${String(issue.maximum)} items`
          : `must be ${issue.inclusive ? "<=" : "<"} ${String(issue.maximum)}`;
    case "invalid_string":
      return typeof issue.validation === "string" ? `not a valid ${issue.validation}` : "not a valid string";
    case "not_finite":
      return "must be a finite number";
    case "unrecognized_keys":
      return `unexpected field(s) ${issue.keys.filter((key) => SAFE_SEGMENT.test(key)).join(", ") || "*"}`;
    case "invalid_enum_value":
      return `must be one of ${issue.options.map(String).join(", ")}`;
    case "invalid_literal":
      return "unexpected value";
    case "invalid_union":
    case "invalid_union_discriminator":
      return "matches none of the accepted forms";
    case "invalid_date":
      return "not a valid date";
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.multipleOf)}`;
    case "custom":
      // Refinements in this package set messages that never include the value.
      return issue.message;
    default:
      return "invalid";
  }
}
