import type { z } from "zod";
import { ValidationError } from "@driftwatch/core/shared/errors";

/** Validates a task's input (from the state machine); a mismatch is a ValidationError naming the fields only. */
export function parseTaskInput<S extends z.ZodTypeAny>(schema: S, input: unknown, task: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new ValidationError(`${task}: invalid input (${issues.map((i) => i.path || "(root)").join(", ")})`, {
    code: "INVALID_TASK_INPUT",
    issues,
  });
}
