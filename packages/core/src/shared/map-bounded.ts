/**
 * `Promise.all(items.map(fn))` with at most `concurrency` calls in flight, results in input order. For fan-outs to
 * a store (one query per device) that would otherwise open hundreds of requests at once and trip throttling.
 * After a call fails no further call starts, and the returned promise rejects with that first failure only once the
 * calls already in flight have settled: nothing of a failed fan-out is still running when the caller sees it fail
 * (a Lambda handler that returns is frozen; its retry must not race the previous attempt's writes).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
