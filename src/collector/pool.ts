/**
 * Runs `task` over `items` with at most `concurrency` tasks in flight, in item order.
 * Rejects with the first failure once every task already started has settled (no task
 * is left running unobserved); items not yet started are then skipped (and, from a
 * generator, never made: items can be built as they are taken, so that only the ones in
 * flight exist at once).
 */
export async function runPool<T>(items: Iterable<T>, concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let done = false;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && !done) {
      try {
        const next = iterator.next();
        if (next.done === true) {
          done = true;
          break;
        }
        await task(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Array.isArray(items) ? Math.min(concurrency, items.length) : concurrency) }, worker);
  await Promise.all(workers);
  if (failure !== null) throw (failure as { error: unknown }).error;
}
