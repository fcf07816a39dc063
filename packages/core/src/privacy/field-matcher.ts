/**
 * Matches payload field names against the PHI catalogue the way a careless sender writes them:
 *
 * - **catalogued**: the same name ignoring case and separators — `name`, `"name "`, `Name`, `DoB_`, `d.o.b`,
 *   `Patient-ID`, `patientId` all match `name`, `dob`, `patient_id`;
 * - **near miss**: a name that is not catalogued but looks like a variant of one — a catalogued name as one of
 *   its words (`full_name`, `patient_name`, `dob_date`, `patientIdNumber`), as its prefix or suffix when at least
 *   four letters long (`fullname`, `patientname`), or one edit away when at least four letters long (`nmae`,
 *   `names`, `birthdte` against `birthdate`).
 *
 * Near misses are treated as PHI (removed and vaulted like the catalogued name they resemble) and flagged, so the
 * catalogue can be extended; a false positive costs a metric, a false negative would leak PHI.
 */
export interface FieldMatch {
  /** The catalogued name (as configured) the field matches or resembles. */
  catalogued: string;
  /** True for a near miss, false for an exact (case- and separator-insensitive) match. */
  nearMiss: boolean;
}

export interface FieldMatcher {
  match(field: string): FieldMatch | undefined;
}

/** Lower case, letters and digits only (Unicode-normalized first: full-width letters fold too). */
export function normalizeFieldName(field: string): string {
  return field
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "");
}

/** Words of a field name: split at separators and at lower→upper case changes. */
export function fieldWords(field: string): string[] {
  return field
    .normalize("NFKC")
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, "$1 $2")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

const CACHE_LIMIT = 10_000;

export function createFieldMatcher(names: readonly string[]): FieldMatcher {
  const entries = names.map((name) => ({ name, normalized: normalizeFieldName(name) }));
  const exact = new Map(entries.map((entry) => [entry.normalized, entry.name]));
  const cache = new Map<string, FieldMatch | null>();

  const compute = (field: string): FieldMatch | null => {
    const normalized = normalizeFieldName(field);
    if (normalized.length === 0) return null;
    const hit = exact.get(normalized);
    if (hit !== undefined) return { catalogued: hit, nearMiss: false };
    const words = fieldWords(field);
    for (const entry of entries) {
      const target = entry.normalized;
      if (target.length === 0) continue;
      // A run of consecutive words spelling the catalogued name (`patient`,`id` → `patientid`).
      for (let start = 0; start < words.length; start++) {
        let joined = "";
        for (let end = start; end < words.length && joined.length < target.length; end++) {
          joined += words[end];
          if (joined === target) return { catalogued: entry.name, nearMiss: true };
        }
      }
      if (target.length >= 4) {
        if (normalized.startsWith(target) || normalized.endsWith(target))
          return { catalogued: entry.name, nearMiss: true };
        if (withinOneEdit(normalized, target)) return { catalogued: entry.name, nearMiss: true };
      }
    }
    return null;
  };

  return {
    match(field) {
      let result = cache.get(field);
      if (result === undefined) {
        result = compute(field);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(field, result);
      }
      return result ?? undefined;
    },
  };
}

/** True when `a` becomes `b` by at most one insertion, deletion, substitution or swap of neighbours. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // substitution
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swap
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}
