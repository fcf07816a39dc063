/**
 * Exponential backoff with full jitter for in-process retries of a channel call (the state machine retries the
 * whole task on top of this). `attempt` is 0-based.
 */
export interface BackoffOptions {
  attempts: number;
  baseMs: number;
  factor?: number;
  maxMs?: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs ?? 10_000, options.baseMs * Math.pow(options.factor ?? 2, attempt));
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/** Runs `fn` up to `attempts` times while `isRetryable(error)`; rethrows the last error. */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  options: BackoffOptions & {
    isRetryable: (error: unknown) => boolean;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt + 1 >= options.attempts || !options.isRetryable(error)) throw error;
      await sleep(backoffDelay(attempt, options));
    }
  }
}
