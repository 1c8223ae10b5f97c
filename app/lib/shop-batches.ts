// Batching per shop: one run per shop at a time; ids submitted meanwhile wait and run
// together next, in batches of at most maxBatch. Idle, an id runs at once, alone; under
// load the cost per id falls as batches grow, instead of a queue growing.

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** One run per shop at a time; ids submitted meanwhile wait and run together next (each waiter gets its batch's result). */
export class ShopBatches<T> {
  private readonly waiting = new Map<string, Map<string, Waiter<T>[]>>();
  private readonly running = new Set<string>();

  constructor(
    private readonly run: (shop: string, ids: string[]) => Promise<T>,
    private readonly maxBatch: number,
  ) {}

  submit(shop: string, id: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let byId = this.waiting.get(shop);
      if (!byId) this.waiting.set(shop, (byId = new Map()));
      let waiters = byId.get(id);
      if (!waiters) byId.set(id, (waiters = []));
      waiters.push({ resolve, reject });
      if (!this.running.has(shop)) void this.drain(shop);
    });
  }

  private async drain(shop: string): Promise<void> {
    this.running.add(shop);
    try {
      for (;;) {
        const byId = this.waiting.get(shop);
        if (!byId || byId.size === 0) break;
        const ids = [...byId.keys()].slice(0, this.maxBatch);
        const waiters = ids.flatMap((id) => {
          const forId = byId.get(id) ?? [];
          byId.delete(id);
          return forId;
        });
        try {
          const result = await this.run(shop, ids);
          for (const waiter of waiters) waiter.resolve(result);
        } catch (error) {
          for (const waiter of waiters) waiter.reject(error);
        }
      }
    } finally {
      this.running.delete(shop);
      this.waiting.delete(shop);
    }
  }
}
