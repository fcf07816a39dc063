import v8 from "node:v8";
import type { ResourceLimits } from "node:worker_threads";

/**
 * The V8 heap limits of a Lambda function's Node.js process, for a local stand-in of that function in a worker
 * thread (issue 13). Lambda's Node.js runtime starts `node` with limits derived from the function's memory
 * (its bootstrap: new space = memory / 10, `--max-semi-space-size` = half of it, `--max-old-space-size` = memory −
 * new space). Without them a worker gets the host's defaults (a ~4 GB old generation here), and V8 then lets the
 * heap grow to up to 4 × its live size between full collections (its growing factor is 4 only when the old
 * generation may reach 2 GB or more; below that it is 1.3–2); a scoring worker with ~45 MB live held ~200 MB.
 *
 * Only the old generation's limit is applied: the young generation is left at Node's default, as a larger one costs
 * RSS for little CPU here (ADR 0604: `--max-semi-space-size=64`, +273 MiB for −4 % CPU). A function that outgrows its
 * limit ends as on AWS (the worker exits, the invocation fails and is retried). `DRIFTWATCH_LAMBDA_HEAP=host` turns
 * it off (the host's defaults, for comparisons).
 */
export function lambdaHeapLimits(
  memoryLimitInMB: number,
  env: NodeJS.ProcessEnv = process.env,
): ResourceLimits | undefined {
  if (env.DRIFTWATCH_LAMBDA_HEAP === "host") return undefined;
  const newSpace = Math.floor(memoryLimitInMB / 10);
  return { maxOldGenerationSizeMb: memoryLimitInMB - newSpace };
}

/** V8's heap growing factor local mode runs with, in percent over the live size (see `limitHeapGrowth`). */
export const LOCAL_HEAP_GROWING_PERCENT = 80;

/**
 * Local mode's own threads (the main thread: broker glue, rules, stream, Firehose, the lake writer, the API) get no
 * heap limit from a Lambda runtime, and a `node` started without flags lets V8 grow each heap to up to 4 × its live
 * size between full collections (issue 13: ~80 MB live on the main thread, 250–360 MB of heap). V8's
 * `--heap-growing-percent` fixes that factor (1.8 with 80, about what a 1,769-MB Lambda's old-space limit gives
 * the scoring workers); unlike the heap limits it takes effect when set at run time, for every thread of the process.
 * `DRIFTWATCH_HEAP_GROWING_PERCENT` overrides it (`0`: V8's own factor). Returns the percent applied (0: none).
 */
export function limitHeapGrowth(
  env: NodeJS.ProcessEnv = process.env,
  setFlags: (flags: string) => void = v8.setFlagsFromString,
): number {
  const raw = env.DRIFTWATCH_HEAP_GROWING_PERCENT;
  const percent = raw === undefined || raw === "" ? LOCAL_HEAP_GROWING_PERCENT : Number(raw);
  if (!Number.isInteger(percent) || percent < 0 || percent > 300)
    throw new RangeError("DRIFTWATCH_HEAP_GROWING_PERCENT must be an integer from 0 to 300");
  if (percent > 0) setFlags(`--heap-growing-percent=${percent}`);
  return percent;
}
