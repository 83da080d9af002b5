/** Small helpers to split work into batches and run it with bounded concurrency. */

/** Splits `items` into consecutive chunks of at most `size` (size >= 1). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const step = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += step) out.push(items.slice(i, i + step));
  return out;
}

/**
 * Maps `items` through `fn` with at most `concurrency` calls in flight; results keep the input
 * order. The first rejection rejects the whole (calls already started still finish).
 */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  const workers = Array.from({ length: Math.min(Math.max(1, Math.floor(concurrency)), items.length) }, worker);
  await Promise.all(workers);
  return results;
}
