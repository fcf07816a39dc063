import type { Clock } from "../ports/clock.ts";
import type { ThresholdsHistoryStore, ThresholdsStore, ThresholdsWriter } from "../ports/thresholds-store.ts";
import type { StoredRuleView } from "./history.ts";
import { parseScopePath, scopePathOf } from "./scope-path.ts";
import { thresholdRuleBodySchema, type ThresholdRule } from "./threshold-rule.ts";
import { ValidationError } from "../shared/errors.ts";

/** A rule body that does not validate; `cause` is the ZodError naming each field. */
export class InvalidRuleError extends ValidationError {
  readonly statusCode = 400;
}

export interface EditRuleDeps {
  thresholds: ThresholdsStore & ThresholdsWriter;
  history: ThresholdsHistoryStore;
  clock: Clock;
}

/** A stored rule as the API shows it: the scope as a path. */
export function toRuleView(rule: ThresholdRule): StoredRuleView {
  return { ...rule, scope: scopePathOf(rule.scope) };
}

/**
 * Stores `body` (validated strictly: unknown fields are refused by name) as the whole rule of the scope at
 * `scopePath`, stamped with `by` and the clock, and records the change (before → after) in the history.
 * The rule is written first, then the history entry: a failure between the two is reported to the caller, whose
 * retry stores the same rule again and records the change then (at-least-once, no lost history).
 */
export async function putRule(
  deps: EditRuleDeps,
  input: { scopePath: string; body: unknown; by: string },
): Promise<StoredRuleView> {
  const scope = parseScopePath(input.scopePath);
  const parsed = thresholdRuleBodySchema.safeParse(input.body);
  if (!parsed.success) throw new InvalidRuleError("invalid threshold rule", { cause: parsed.error });
  const body = parsed.data;
  const [before] = await deps.thresholds.getMany([scope.key]);
  const at = new Date(deps.clock.now()).toISOString();
  const rule: ThresholdRule = {
    scope: scope.key,
    bounds: body.bounds ?? {},
    ...(body.scoreThreshold !== undefined ? { scoreThreshold: body.scoreThreshold } : {}),
    ...(body.silenceWindows !== undefined ? { silenceWindows: body.silenceWindows } : {}),
    ...(body.stuckReadings !== undefined ? { stuckReadings: body.stuckReadings } : {}),
    updatedAt: at,
    updatedBy: input.by,
  };
  await deps.thresholds.put(rule);
  const after = toRuleView(rule);
  await deps.history.record({
    scope: scope.path,
    at,
    by: input.by,
    before: before ? toRuleView(before) : null,
    after,
  });
  return after;
}

/**
 * Deletes the rule of the scope at `scopePath` and records the change. Deleting a scope without a rule changes
 * nothing and records nothing (DELETE is idempotent). Returns whether a rule was removed.
 */
export async function deleteRule(
  deps: EditRuleDeps,
  input: { scopePath: string; by: string },
): Promise<boolean> {
  const scope = parseScopePath(input.scopePath);
  const [before] = await deps.thresholds.getMany([scope.key]);
  if (!before) return false;
  await deps.thresholds.remove(scope.key);
  await deps.history.record({
    scope: scope.path,
    at: new Date(deps.clock.now()).toISOString(),
    by: input.by,
    before: toRuleView(before),
    after: null,
  });
  return true;
}
