import type { RuleBody, StoredRule } from "./api.ts";

/**
 * The threshold editor's form model and its inline validation (the same limits as the API's strict schema, so
 * the operator sees the problem next to the field before the API answers 400). Pure: unit-tested in test/.
 */
export interface BoundRow {
  metric: string;
  min: string;
  max: string;
}
export interface RuleForm {
  bounds: BoundRow[];
  scoreThreshold: string;
  silenceWindows: string;
  stuckReadings: string;
}
/** Field path (`bounds.0.max`, `scoreThreshold`) → message. */
export type FormErrors = Record<string, string>;

export const emptyForm = (): RuleForm => ({
  bounds: [],
  scoreThreshold: "",
  silenceWindows: "",
  stuckReadings: "",
});

export function formFromRule(rule: RuleBody | undefined): RuleForm {
  if (!rule) return emptyForm();
  return {
    bounds: Object.entries(rule.bounds ?? {}).map(([metric, b]) => ({
      metric,
      min: b.min === undefined ? "" : String(b.min),
      max: b.max === undefined ? "" : String(b.max),
    })),
    scoreThreshold: rule.scoreThreshold === undefined ? "" : String(rule.scoreThreshold),
    silenceWindows: rule.silenceWindows === undefined ? "" : String(rule.silenceWindows),
    stuckReadings:
      rule.stuckReadings === undefined
        ? ""
        : typeof rule.stuckReadings === "number"
          ? String(rule.stuckReadings)
          : JSON.stringify(rule.stuckReadings),
  };
}

const num = (s: string): number | undefined => (s.trim() === "" ? undefined : Number(s.trim()));

function intInRange(
  raw: string,
  min: number,
  max: number,
  field: string,
  errors: FormErrors,
): number | undefined {
  const v = num(raw);
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) errors[field] = `a whole number from ${min} to ${max}`;
  return v;
}

/** Validates the form; returns the rule body to send when there are no errors. */
export function validateForm(form: RuleForm): { errors: FormErrors; rule?: RuleBody } {
  const errors: FormErrors = {};
  const rule: RuleBody = {};
  const bounds: NonNullable<RuleBody["bounds"]> = {};
  const seen = new Set<string>();
  form.bounds.forEach((row, i) => {
    const metric = row.metric.trim();
    if (!metric) errors[`bounds.${i}.metric`] = "name the metric";
    else if (metric.length > 128) errors[`bounds.${i}.metric`] = "at most 128 characters";
    else if (seen.has(metric)) errors[`bounds.${i}.metric`] = `${metric} is listed twice`;
    seen.add(metric);
    const min = num(row.min);
    const max = num(row.max);
    if (min !== undefined && !Number.isFinite(min)) errors[`bounds.${i}.min`] = "min must be a number";
    if (max !== undefined && !Number.isFinite(max)) errors[`bounds.${i}.max`] = "max must be a number";
    if (min === undefined && max === undefined) errors[`bounds.${i}.min`] = "give min, max or both";
    if (min !== undefined && max !== undefined && Number.isFinite(min) && Number.isFinite(max) && min > max)
      errors[`bounds.${i}.min`] = "min must not exceed max";
    bounds[metric] = { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  });
  if (form.bounds.length) rule.bounds = bounds;

  const score = num(form.scoreThreshold);
  if (score !== undefined) {
    if (!Number.isFinite(score) || score <= 0) errors.scoreThreshold = "a number above 0";
    rule.scoreThreshold = score;
  }
  const silence = intInRange(form.silenceWindows, 0, 10_000, "silenceWindows", errors);
  if (silence !== undefined) rule.silenceWindows = silence;

  const stuck = form.stuckReadings.trim();
  if (stuck.startsWith("{")) {
    try {
      const parsed = JSON.parse(stuck) as unknown;
      const ok =
        parsed !== null &&
        typeof parsed === "object" &&
        Object.keys(parsed).length > 0 &&
        Object.values(parsed).every(
          (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1_000_000,
        );
      if (!ok) errors.stuckReadings = 'per metric: {"metric": whole number 0–1000000, "*": default}';
      else rule.stuckReadings = parsed as Record<string, number>;
    } catch {
      errors.stuckReadings = "not valid JSON";
    }
  } else {
    const v = intInRange(stuck, 0, 1_000_000, "stuckReadings", errors);
    if (v !== undefined) rule.stuckReadings = v;
  }
  return Object.keys(errors).length ? { errors } : { errors, rule };
}

// ---- scopes ----
export type ScopeKind = "global" | "manufacturers" | "models" | "devices";

export function scopeOf(
  kind: ScopeKind,
  parts: { manufacturer?: string; model?: string; deviceId?: string },
): string {
  switch (kind) {
    case "global":
      return "global";
    case "manufacturers":
      return `manufacturers/${parts.manufacturer ?? ""}`;
    case "models":
      return `models/${parts.manufacturer ?? ""}/${parts.model ?? ""}`;
    case "devices":
      return `devices/${parts.deviceId ?? ""}`;
  }
}

/** The scopes a scope inherits from, most specific first (itself included). Devices need their registry entry. */
export function scopeChain(scope: string, device?: { manufacturer: string; model: string }): string[] {
  const [kind, a, b] = scope.split("/");
  if (kind === "devices" && device)
    return [
      scope,
      `models/${device.manufacturer}/${device.model}`,
      `manufacturers/${device.manufacturer}`,
      "global",
    ];
  if (kind === "models") return [scope, `manufacturers/${a}`, "global"];
  if (kind === "manufacturers") return [scope, "global"];
  if (kind === "devices") return [scope, "global"];
  void b;
  return ["global"];
}

/** Internal `device#x` style keys (older stores) shown as the API's path form. */
export function normalizeScope(scope: string): string {
  if (!scope.includes("#")) return scope;
  const [kind, ...rest] = scope.split("#");
  const plural = { device: "devices", model: "models", manufacturer: "manufacturers" }[kind] ?? kind;
  return [plural, ...rest].join("/");
}

export interface SettingOrigin {
  setting: string;
  value: string;
  scope: string;
  overridden: boolean;
}

/** Each setting's value along a chain of stored rules: where it comes from, and whether `chain[0]` overrides it. */
export function resolveChain(chain: string[], rules: StoredRule[]): SettingOrigin[] {
  const byScope = new Map(rules.map((r) => [normalizeScope(r.scope), r]));
  const out = new Map<string, SettingOrigin>();
  const put = (setting: string, value: string, scope: string) => {
    if (!out.has(setting)) out.set(setting, { setting, value, scope, overridden: scope === chain[0] });
  };
  for (const scope of chain) {
    const rule = byScope.get(scope);
    if (!rule) continue;
    for (const [metric, b] of Object.entries(rule.bounds ?? {})) {
      if (b.min !== undefined) put(`${metric} min`, String(b.min), scope);
      if (b.max !== undefined) put(`${metric} max`, String(b.max), scope);
    }
    if (rule.scoreThreshold !== undefined) put("scoreThreshold", String(rule.scoreThreshold), scope);
    if (rule.silenceWindows !== undefined) put("silenceWindows", String(rule.silenceWindows), scope);
    if (rule.stuckReadings !== undefined) put("stuckReadings", JSON.stringify(rule.stuckReadings), scope);
  }
  return [...out.values()].sort((x, y) => x.setting.localeCompare(y.setting));
}
