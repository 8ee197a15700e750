type Receipt = { sessionPubkey: string; ids: string[] };

/**
 * Coalesces delivery receipts from many connections into one write. A broadcast's recipients all
 * acknowledge within a few milliseconds; written one by one, each would be its own statement (the store's
 * shared writer already gives them one commit). Each caller resolves once its receipt is stored, so a
 * connection's later frames still see it.
 */
export class ReceiptBatcher {
  private pending: Receipt[] = [];
  private waiters: { resolve(): void; reject(e: unknown): void }[] = [];
  private scheduled = false;

  constructor(private readonly write: (batch: Receipt[]) => Promise<void>) {}

  add(sessionPubkey: string, ids: string[]): Promise<void> {
    this.pending.push({ sessionPubkey, ids });
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      // After this turn's I/O callbacks: receipts from the same burst of socket events join this batch.
      setImmediate(() => void this.flush());
    }
    return done;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    this.scheduled = false;
    try {
      await this.write(batch);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }
}
