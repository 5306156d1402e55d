/**
 * Collects items and hands them to `flush` in batches: whatever arrived while the
 * previous flush ran goes in the next one. Completing 50 steps in one transaction costs
 * about as much as completing one, so a busy worker commits far less often.
 */
export function createBatcher<I, R>(flush: (items: I[]) => Promise<R[]>, maxBatch = 100) {
  let queue: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let flushing = false;

  async function drain(): Promise<void> {
    flushing = true;
    while (queue.length) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        const results = await flush(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (error) {
        batch.forEach((b) => b.reject(error));
      }
    }
    flushing = false;
  }

  return {
    add(item: I): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!flushing) setImmediate(() => void (flushing ? undefined : drain()));
      });
    },
  };
}
