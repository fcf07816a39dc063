import { z } from "zod";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { describeIssue } from "@driftwatch/core/telemetry/safe-issues";

/**
 * Reading a handler's configuration from the environment, once, validated with zod. `readConfig` reports every
 * missing or invalid variable in one `ConfigurationError` (names and reasons only — values may be secrets).
 *
 *   const config = readConfig({ DEVICES_TABLE: required(), CACHE_TTL_SECONDS: seconds(300) });
 */
export function readConfig<T extends z.ZodRawShape>(
  shape: T,
  env: NodeJS.ProcessEnv = process.env,
): z.output<z.ZodObject<T>> {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(shape)) values[name] = env[name] === "" ? undefined : env[name];
  const result = z.object(shape).safeParse(values);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "?");
    // describeIssue never echoes the value (zod's own enum/literal messages do; values may be secrets).
    return issue.code === "invalid_type" && issue.received === "undefined"
      ? `${name} is not set`
      : `${name}: ${describeIssue(issue).message}`;
  });
  throw new ConfigurationError(`invalid configuration: ${problems.join("; ")}`);
}

/** A required, non-empty string. */
export const required = () => z.string().min(1);

/** An optional string. */
export const optional = () => z.string().min(1).optional();

/** A non-negative number of seconds (default when unset). */
export const seconds = (fallback: number) => z.coerce.number().finite().nonnegative().default(fallback);

/** A positive integer (default when unset). */
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** `true`/`false`/`1`/`0` (default when unset). */
export const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "TRUE", "FALSE"])
    .optional()
    .transform((value) =>
      value === undefined ? fallback : value === "true" || value === "1" || value === "TRUE",
    );

/** A JSON value validated by `schema` (default when unset). */
export function json<S extends z.ZodTypeAny>(schema: S, fallback: z.input<S>) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return fallback;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: "is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** Memoizes an async factory; a failed attempt is forgotten, so the next invocation tries again. */
export function lazy<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= factory().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
