/** What one item of a group commit came to: its own result, or its own refusal. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Group commit: items that arrive while a write is in flight (or in the same burst of socket events)
 * are written together by the next one, in one transaction, so a burst costs one commit (one fsync on
 * SQLite) instead of one per item. One write runs at a time: the store has one writer anyway, and the
 * batch grows exactly as fast as commits are slow. Each `add` settles only after the transaction that
 * holds its item committed, so whatever is acknowledged on it is durable.
 */
export class GroupCommit<T, R> {
  private pending: { item: T; resolve(r: R): void; reject(e: unknown): void }[] = [];
  private running = false;
  private scheduled = false;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private waiting: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** Writes every item in one transaction; one outcome per item, in order. A throw fails the whole batch. */
    private readonly write: (items: T[]) => Promise<Outcome<R>[]>,
    private readonly maxBatch = 256,
    /** told each batch's size, for metrics */
    private readonly onBatch?: (size: number) => void,
    /**
     * At most one commit per this many ms while items keep coming (a full batch goes at once): a lone item
     * is written at once, a storm of them in a few large batches. For writes nobody reads back at once.
     */
    private readonly minIntervalMs = 0,
  ) {}

  add(item: T): Promise<R> {
    const done = new Promise<R>((resolve, reject) => this.pending.push({ item, resolve, reject }));
    this.schedule();
    return done;
  }

  private schedule(): void {
    if (this.running || this.pending.length === 0) return;
    const full = this.pending.length >= this.maxBatch;
    // a batch that filled up while it waited for the interval goes now
    if (this.waiting && full) {
      clearTimeout(this.waiting);
      this.waiting = undefined;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = full ? 0 : this.lastFlush + this.minIntervalMs - performance.now();
    // After this turn's I/O callbacks: items from the same burst of socket events join this batch.
    if (wait <= 0) setImmediate(() => void this.flush());
    else this.waiting = setTimeout(() => void this.flush(), wait);
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.waiting = undefined;
    this.running = true;
    this.lastFlush = performance.now();
    const batch = this.pending.splice(0, this.maxBatch);
    this.onBatch?.(batch.length);
    try {
      const outcomes = await this.write(batch.map((b) => b.item));
      batch.forEach((b, i) => {
        const o = outcomes[i];
        if (!o) b.reject(new Error("group commit returned no outcome for an item"));
        else if (o.ok) b.resolve(o.value);
        else b.reject(o.error);
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
