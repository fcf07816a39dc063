import type { Command } from "commander";

interface RuleSettings {
  bounds?: Record<string, { min?: number; max?: number }>;
  scoreThreshold?: number;
  silenceWindows?: number;
  stuckReadings?: number | Record<string, number>;
}
interface StoredRule extends RuleSettings {
  scope: string;
  updatedAt?: string;
  updatedBy?: string;
}
interface HistoryEntry {
  scope: string;
  at: string;
  by: string;
  before: StoredRule | null;
  after: StoredRule | null;
}
/** One rule set's part of the `POST /api/backtest` answer (the fields the CLI prints). */
interface BacktestSide {
  alerts: number;
  byRule: Record<string, number>;
  incidents?: number;
  noiseWarning?: string | null;
}
interface RuleOptions {
  bound?: string[];
  scoreThreshold?: string;
  silenceWindows?: string;
  stuckReadings?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function number(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value))
    throw new Error(`${name} must be a number, got "${text}"`);
  return value;
}

/** `--bound pressure.max=5 --bound pressure.min=1` → `{pressure: {min: 1, max: 5}}`. */
export function parseBounds(specs: readonly string[]): Record<string, { min?: number; max?: number }> {
  const bounds: Record<string, { min?: number; max?: number }> = {};
  for (const spec of specs) {
    const match = /^(.+)\.(min|max)=(.*)$/.exec(spec);
    if (!match) throw new Error(`--bound must look like <metric>.min=<n> or <metric>.max=<n>, got "${spec}"`);
    const [, metric, side, text] = match;
    (bounds[metric] ??= {})[side as "min" | "max"] = number(`--bound ${metric}.${side}`, text);
  }
  return bounds;
}

/** The rule settings given on the command line (only those given). */
export function ruleFromOptions(options: RuleOptions): RuleSettings {
  const rule: RuleSettings = {};
  if (options.bound?.length) rule.bounds = parseBounds(options.bound);
  if (options.scoreThreshold !== undefined)
    rule.scoreThreshold = number("--score-threshold", options.scoreThreshold);
  if (options.silenceWindows !== undefined)
    rule.silenceWindows = number("--silence-windows", options.silenceWindows);
  if (options.stuckReadings !== undefined)
    rule.stuckReadings = number("--stuck-readings", options.stuckReadings);
  return rule;
}

/** One line per setting: `pressure ≤ 5`, `1 ≤ flow ≤ 9`, `score > 3`, `silence 0 windows (off)`, `stuck 10`. */
export function describeRule(rule: RuleSettings): string {
  const parts: string[] = [];
  for (const [metric, b] of Object.entries(rule.bounds ?? {})) {
    parts.push(
      b.min !== undefined && b.max !== undefined
        ? `${b.min} ≤ ${metric} ≤ ${b.max}`
        : b.max !== undefined
          ? `${metric} ≤ ${b.max}`
          : `${metric} ≥ ${b.min}`,
    );
  }
  if (rule.scoreThreshold !== undefined) parts.push(`score > ${rule.scoreThreshold}`);
  if (rule.silenceWindows !== undefined)
    parts.push(rule.silenceWindows === 0 ? "silence off" : `silence after ${rule.silenceWindows} windows`);
  if (rule.stuckReadings !== undefined)
    parts.push(
      `stuck ${typeof rule.stuckReadings === "number" ? rule.stuckReadings : JSON.stringify(rule.stuckReadings)}`,
    );
  return parts.join(", ") || "(empty)";
}

const settingsOf = (rule: StoredRule | null | undefined): RuleSettings => {
  if (!rule) return {};
  const { scope: _s, updatedAt: _a, updatedBy: _b, ...settings } = rule;
  return settings;
};

function addRuleOptions(command: Command): Command {
  return command
    .option("--bound <metric.side=value>", "a bound, e.g. pressure.max=5 (repeatable)", collect)
    .option("--score-threshold <n>", "raw RCF score above which a reading is anomalous")
    .option("--silence-windows <n>", "quiet windows before a silence alert (0 turns it off)")
    .option("--stuck-readings <n>", "repeats of one value before a stuck alert (0 turns it off)");
}

/**
 * `driftwatch thresholds list|set|delete|history|backtest` over the operator API of the running local instance
 * (signed with the local key). Scopes are paths: global, manufacturers/<m>, models/<m>/<model>, devices/<id>.
 */
export function registerThresholds(program: Command): void {
  const thresholds = program
    .command("thresholds")
    .description(
      "List, set, delete and backtest threshold rules (scopes: global, manufacturers/<m>, models/<m>/<model>, devices/<id>)",
    );
  const api = async () => import("../api-client.ts");
  const scopeRoute = async (scope: string) => {
    const { encodeScopePath } = await import("@driftwatch/core/thresholds/scope-path");
    return `/api/thresholds/${encodeScopePath(scope.replace(/^\/+|\/+$/g, ""))}`;
  };
  thresholds
    .command("list")
    .description("Print every stored rule")
    .option("--json", "print JSON")
    .option("--url <url>", "base URL of the instance (default http://127.0.0.1:$HTTP_PORT)")
    .action(async (options: { json?: boolean; url?: string }) => {
      const { apiCall, formatTable } = await api();
      const rules = await apiCall<StoredRule[]>("GET", "/api/thresholds", { url: options.url });
      process.stdout.write(
        options.json
          ? `${JSON.stringify(rules, null, 2)}\n`
          : rules.length === 0
            ? "no threshold rules stored (defaults apply)\n"
            : formatTable(
                ["SCOPE", "SETTINGS", "UPDATED", "BY"],
                rules.map((r) => [r.scope, describeRule(r), r.updatedAt ?? "", r.updatedBy ?? ""]),
              ),
      );
    });
  addRuleOptions(
    thresholds
      .command("set <scope>")
      .description(
        "Change the given settings of a scope's rule, keeping the others (--replace: the rule becomes exactly the given settings)",
      ),
  )
    .option("--replace", "replace the whole rule instead of merging")
    .option("--json", "print the stored rule as JSON")
    .option("--url <url>", "base URL of the instance")
    .action(
      async (scope: string, options: RuleOptions & { replace?: boolean; json?: boolean; url?: string }) => {
        const { apiCall } = await api();
        const route = await scopeRoute(scope);
        const given = ruleFromOptions(options);
        let current: RuleSettings = {};
        if (!options.replace) {
          try {
            current = settingsOf(await apiCall<StoredRule>("GET", route, { url: options.url }));
          } catch (error) {
            if (!/HTTP 404/.test((error as Error).message)) throw error;
          }
        }
        const body: RuleSettings = { ...current, ...given };
        if (current.bounds || given.bounds) {
          body.bounds = { ...(current.bounds ?? {}) };
          for (const [metric, b] of Object.entries(given.bounds ?? {}))
            body.bounds[metric] = { ...body.bounds[metric], ...b };
        }
        const stored = await apiCall<StoredRule>("PUT", route, { url: options.url, body });
        process.stdout.write(
          options.json
            ? `${JSON.stringify(stored, null, 2)}\n`
            : `stored ${stored.scope}: ${describeRule(stored)} (by ${stored.updatedBy} at ${stored.updatedAt})\n`,
        );
      },
    );
  thresholds
    .command("delete <scope>")
    .description("Delete a scope's rule (the less specific scopes apply again)")
    .option("--json", 'print {"scope", "deleted": true}')
    .option("--url <url>", "base URL of the instance")
    .action(async (scope: string, options: { url?: string; json?: boolean }) => {
      const { apiCall } = await api();
      const { parseScopePath } = await import("@driftwatch/core/thresholds/scope-path");
      const path = parseScopePath(scope).path;
      await apiCall("DELETE", await scopeRoute(scope), { url: options.url });
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ scope: path, deleted: true })}\n`
          : `deleted the rule of ${path} (idempotent: no rule is stored there now)\n`,
      );
    });
  thresholds
    .command("history")
    .description("Print the change history (who, when, before → after), newest first")
    .option("--scope <scope>", "only this scope's changes")
    .option("--json", "print JSON")
    .option("--url <url>", "base URL of the instance")
    .action(async (options: { scope?: string; json?: boolean; url?: string }) => {
      const { apiCall, formatTable } = await api();
      const entries = await apiCall<HistoryEntry[]>("GET", "/api/thresholds/history", {
        url: options.url,
        query: { scope: options.scope },
      });
      process.stdout.write(
        options.json
          ? `${JSON.stringify(entries, null, 2)}\n`
          : formatTable(
              ["AT", "BY", "SCOPE", "BEFORE", "AFTER"],
              entries.map((e) => [
                e.at,
                e.by,
                e.scope,
                e.before ? describeRule(e.before) : "-",
                e.after ? describeRule(e.after) : "(deleted)",
              ]),
            ),
      );
    });
  addRuleOptions(
    thresholds
      .command("backtest")
      .description(
        "What a candidate rule for a device would have raised over a range, against the current rules",
      ),
  )
    .requiredOption("--device <id>", "device id")
    .requiredOption("--from <time>", "range start (ISO 8601)")
    .requiredOption("--to <time>", "range end (ISO 8601)")
    .option("--json", "print the API's JSON")
    .option("--url <url>", "base URL of the instance")
    .action(
      async (
        options: RuleOptions & { device: string; from: string; to: string; json?: boolean; url?: string },
      ) => {
        const { apiCall } = await api();
        const result = await apiCall<{
          readings: number;
          current: BacktestSide;
          candidate: BacktestSide;
          detector?: { source: "archived" | "forest"; readingsWithoutVerdict: number };
        }>("POST", "/api/backtest", {
          url: options.url,
          body: {
            deviceId: options.device,
            from: options.from,
            to: options.to,
            rule: ruleFromOptions(options),
          },
          timeoutMs: 300_000,
        });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        const byRule = (r: Record<string, number>) =>
          Object.entries(r)
            .map(([rule, n]) => `${rule} ${n}`)
            .join(", ") || "none";
        const side = (name: string, r: BacktestSide) =>
          `  ${name} ${r.alerts} alerts (${byRule(r.byRule)})` +
          (r.incidents !== undefined
            ? `, ${r.incidents} incident${r.incidents === 1 ? "" : "s"} after folding`
            : "") +
          "\n" +
          (r.noiseWarning ? `    warning: ${r.noiseWarning}\n` : "");
        process.stdout.write(
          `${options.device}, ${options.from} → ${options.to}: ${result.readings} readings\n` +
            (result.detector
              ? result.detector.source === "archived"
                ? "  detector: the live detector's archived verdicts\n"
                : `  detector: forest warmed on the readings before the range (${result.detector.readingsWithoutVerdict} readings of the range have no archived verdict)\n`
              : "") +
            side("current rules: ", result.current) +
            side("candidate rule:", result.candidate),
        );
      },
    );
}
