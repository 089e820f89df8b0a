/**
 * Runs `run` over `items` with at most `limit` at a time and returns the results in the items'
 * order. One helper for every bounded fan-out in the CLI: doctor's per-server checks, and the
 * deploy folder's file copies and hashes (thousands of small files). Written here because it is
 * ten lines; p-limit would add a dependency for the same loop.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
