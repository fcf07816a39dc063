import { createHmac } from "node:crypto";
import { z } from "zod";
import { ConfigurationError } from "../shared/errors.ts";
import { formatPath } from "../telemetry/safe-issues.ts";
import { createFieldMatcher, normalizeFieldName } from "./field-matcher.ts";

const fieldNameSchema = z.string().min(1).max(128);

/**
 * Which payload fields are PHI. Configurable per deployment (`PHI_CATALOGUE` on AWS and in local mode).
 * - `vault`: values that must never leave the handling process in clear (seed 003: `name`, `dob`). They are
 *   removed from readings and stored encrypted in the vault under the record's subject token.
 * - `tokenize`: identifiers replaced by stable keyed-hash tokens (seed 003: `patient_id`), so downstream analytics
 *   can still group by patient without knowing who it is. The first tokenized identifier present is also the
 *   vault key ("subject") of the record's vaulted values.
 * Field names match ignoring case and separators (`"Name "`, `DoB_`, `Patient-ID`), and near misses (`full_name`,
 * `patientname`, `nmae`) are treated as the catalogued field they resemble and flagged (`field-matcher.ts`), at the
 * top level of a payload (and at any depth when error records are stripped).
 */
export const phiCatalogueSchema = z
  .object({
    vault: z.array(fieldNameSchema).default(["name", "dob"]),
    tokenize: z.array(fieldNameSchema).default(["patient_id"]),
  })
  .strict()
  .refine(
    (catalogue) =>
      !catalogue.vault.some((field) =>
        catalogue.tokenize.some((other) => normalizeFieldName(other) === normalizeFieldName(field)),
      ),
    {
      message: "a field cannot be both vaulted and tokenized",
    },
  );
export type PhiCatalogue = z.infer<typeof phiCatalogueSchema>;

/** Seed 003's catalogue: name and date of birth vaulted, patient id tokenized. */
export const defaultPhiCatalogue: PhiCatalogue = { vault: ["name", "dob"], tokenize: ["patient_id"] };

/** Tag that carries the subject token when a record has vaulted values but no tokenized identifier. */
export const SUBJECT_TAG = "phi_subject";

/** A PHI value on its way to the vault. `value` is clear text and must not leave the process except encrypted. */
export interface PhiEntry {
  field: string;
  value: string;
  /** Keyed fingerprint of (field, value), so the vault can tell "already stored" without decrypting. */
  mac: string;
}

export interface Deidentified {
  /** Tokenized identifiers, by field name as it appeared (e.g. `patient_id` → `tok_…`). */
  tokens: Record<string, string>;
  /** Values to vault. */
  phi: PhiEntry[];
  /** The vault key of `phi` (the first tokenized identifier's token, or a token of the values themselves). */
  subject?: string;
  /** Names of the catalogued fields found (to remove from any output), near misses included. */
  catalogued: string[];
  /** Fields treated as PHI because they resemble a catalogued name (flag them: extend the catalogue). */
  nearMisses: string[];
}

export interface Deidentifier {
  readonly catalogue: PhiCatalogue;
  /** `vault`, `tokenize`, or undefined when the field is not PHI (near misses count as PHI). */
  classify(field: string): "vault" | "tokenize" | undefined;
  /** True when `field` is PHI only because it resembles a catalogued name. */
  isNearMiss(field: string): boolean;
  /** Stable keyed token of an identifier: `tok_` + 22 base64url chars of HMAC-SHA256(key, field ␀ value). */
  tokenize(field: string, value: string): string;
  /**
   * The same token as `tokenize`, not memoized: for values that never repeat (a reading's identity, issue 14), which
   * would only evict the identifiers the memo is for.
   */
  tokenizeOnce(field: string, value: string): string;
  /** Finds the catalogued fields at the top level of `payload`. Does not modify it. */
  deidentify(payload: Readonly<Record<string, unknown>>): Deidentified;
  /**
   * A copy of `value` without PHI, for error records: vaulted fields removed at any depth, tokenized identifiers
   * replaced by their tokens. `removed` lists the paths of what was removed or replaced.
   */
  strip(value: unknown): { value: unknown; removed: string[] };
}

const TOKEN_CACHE_LIMIT = 50_000;

export function createDeidentifier(options: { catalogue: PhiCatalogue; tokenKey: Uint8Array }): Deidentifier {
  if (options.tokenKey.length < 32) throw new ConfigurationError("the token key must be at least 32 bytes");
  const catalogue = phiCatalogueSchema.parse(options.catalogue);
  const tokenKey = Buffer.from(options.tokenKey);
  const vaultFields = new Set(catalogue.vault);
  const tokenizeFields = catalogue.tokenize;
  // Exact tokenize matches first: a field that is exactly one catalogued name never counts as another's near miss.
  const matcher = createFieldMatcher([...catalogue.tokenize, ...catalogue.vault]);
  const tokenCache = new Map<string, string>();
  const macCache = new Map<string, string>();

  const classify = (field: string): "vault" | "tokenize" | undefined => {
    const match = matcher.match(field);
    if (match === undefined) return undefined;
    return vaultFields.has(match.catalogued) ? "vault" : "tokenize";
  };
  const isNearMiss = (field: string): boolean => matcher.match(field)?.nearMiss === true;
  /** The name a field's tokens and MACs are keyed by: its catalogued name, so `Patient-ID` tokens as `patient_id`. */
  const keyName = (field: string): string => (matcher.match(field)?.catalogued ?? field).toLowerCase();

  const hmac = (label: string, field: string, value: string): string =>
    createHmac("sha256", tokenKey)
      .update(`${label}\u0000${keyName(field)}\u0000${value}`)
      .digest("base64url");

  const tokenizeOnce = (field: string, value: string): string =>
    `tok_${hmac("token", field, value).slice(0, 22)}`;

  const tokenize = (field: string, value: string): string => {
    const cacheKey = `${keyName(field)}\u0000${value}`;
    let token = tokenCache.get(cacheKey);
    if (token === undefined) {
      token = tokenizeOnce(field, value);
      if (tokenCache.size >= TOKEN_CACHE_LIMIT) tokenCache.clear();
      tokenCache.set(cacheKey, token);
    }
    return token;
  };

  // Keyed fingerprints of vaulted values, memoized like tokens (a monitor repeats its patient's values).
  const mac = (field: string, value: string): string => {
    const cacheKey = `${keyName(field)}\u0000${value}`;
    let result = macCache.get(cacheKey);
    if (result === undefined) {
      result = hmac("mac", field, value);
      if (macCache.size >= TOKEN_CACHE_LIMIT) macCache.clear();
      macCache.set(cacheKey, result);
    }
    return result;
  };

  const deidentify = (payload: Readonly<Record<string, unknown>>): Deidentified => {
    const result: Deidentified = { tokens: {}, phi: [], catalogued: [], nearMisses: [] };
    let subjectRank = Number.POSITIVE_INFINITY;
    for (const field of Object.keys(payload)) {
      const kind = classify(field);
      if (kind === undefined) continue;
      result.catalogued.push(field);
      if (isNearMiss(field)) result.nearMisses.push(field);
      const text = asText(payload[field]);
      if (text === undefined) continue;
      if (kind === "vault") {
        result.phi.push({ field, value: text, mac: mac(field, text) });
      } else {
        const token = tokenize(field, text);
        result.tokens[field] = token;
        const rank = tokenizeFields.indexOf(matcher.match(field)?.catalogued ?? field);
        if (rank < subjectRank) {
          subjectRank = rank;
          result.subject = token;
        }
      }
    }
    if (result.subject === undefined && result.phi.length > 0) {
      const values = [...result.phi]
        .sort((a, b) => a.field.localeCompare(b.field))
        .map((entry) => [keyName(entry.field), entry.value]);
      result.subject = tokenize(SUBJECT_TAG, JSON.stringify(values));
    }
    return result;
  };

  const strip = (value: unknown): { value: unknown; removed: string[] } => {
    const removed: string[] = [];
    const walk = (node: unknown, path: (string | number)[]): unknown => {
      if (path.length > 64) return null; // payloads are depth-limited before they get here; belt and braces
      if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
      if (node === null || typeof node !== "object") return node;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) {
        const kind = classify(key);
        const childPath = [...path, key];
        if (kind === "vault") {
          removed.push(formatPath(childPath));
        } else if (kind === "tokenize") {
          removed.push(formatPath(childPath));
          const text = asText(child);
          if (text !== undefined && (typeof child === "string" || typeof child === "number"))
            out[key] = tokenize(key, text);
        } else {
          out[key] = walk(child, childPath);
        }
      }
      return out;
    };
    return { value: walk(value, []), removed };
  };

  return { catalogue, classify, isNearMiss, tokenize, tokenizeOnce, deidentify, strip };
}

function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
