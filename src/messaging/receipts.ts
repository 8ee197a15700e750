type Receipt = { sessionPubkey: string; ids: string[] };

interface Pending {
  receipt: Receipt;
  /** when it arrived */
  at: number;
  resolve(): void;
  reject(e: unknown): void;
}

export interface ReceiptBatcherOptions {
  /**
   * Whether pushes are going out that receipts should not slow: while it says so, receipts wait (at most
   * `maxHoldMs`) and `release()` writes them. A broadcast's first recipients acknowledge while its later
   * slices still wait for their turn; written then, their statements would run between those slices.
   */
  busy?: () => boolean;
  maxHoldMs?: number;
  /**
   * Most ids one write carries (a receipt with more goes alone). The rest follow, a write at a time, each
   * after a turn of the event loop: a send that arrives meanwhile is stored in the next transaction, not
   * after a statement of every receipt of a broadcast (~5 ms for a thousand on SQLite).
   */
  maxIds?: number;
}

/**
 * Coalesces delivery receipts from many connections into one write. A broadcast's recipients all
 * acknowledge within a few milliseconds; written one by one, each would be its own statement (the store's
 * shared writer already gives them one commit). Each caller resolves once its receipt is stored, so a
 * connection's later frames still see it.
 */
export class ReceiptBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  /** the write in progress, if any: one at a time */
  private writing: Promise<void> | null = null;
  private held: ReturnType<typeof setTimeout> | undefined;
  private readonly busy: () => boolean;
  private readonly maxHoldMs: number;
  private readonly maxIds: number;

  constructor(
    private readonly write: (batch: Receipt[]) => Promise<void>,
    opts: ReceiptBatcherOptions = {},
  ) {
    this.busy = opts.busy ?? (() => false);
    this.maxHoldMs = opts.maxHoldMs ?? 250;
    this.maxIds = opts.maxIds ?? Number.POSITIVE_INFINITY;
  }

  add(sessionPubkey: string, ids: string[]): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.pending.push({ receipt: { sessionPubkey, ids }, at: performance.now(), resolve, reject }));
    this.schedule();
    return done;
  }

  /** Writes what waits for `busy` now (the pushes it waited for went out). */
  release(): void {
    if (this.held === undefined) return;
    clearTimeout(this.held);
    this.held = undefined;
    void this.flush();
  }

  /** Writes everything pending, holding nothing back: for a broker that stops. */
  async drain(): Promise<void> {
    clearTimeout(this.held);
    this.held = undefined;
    while (this.writing || this.pending.length > 0) await (this.writing ?? this.flush());
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.held !== undefined || this.pending.length === 0) return;
    this.scheduled = true;
    // After this turn's I/O callbacks: receipts from the same burst of socket events join this batch.
    setImmediate(() => {
      this.scheduled = false;
      // the hold is counted from the oldest receipt waiting: back-to-back broadcasts cannot starve them
      const wait = (this.pending[0]?.at ?? 0) + this.maxHoldMs - performance.now();
      if (this.busy() && wait > 0) this.held = setTimeout(() => this.release(), wait);
      else void this.flush();
    });
  }

  private flush(): Promise<void> {
    if (this.writing) return this.writing;
    let ids = 0;
    let n = 0;
    for (const p of this.pending) {
      if (n > 0 && ids + p.receipt.ids.length > this.maxIds) break;
      ids += p.receipt.ids.length;
      n++;
    }
    const batch = this.pending.splice(0, n);
    // a write that throws before its promise exists fails its batch like one that rejects
    this.writing = new Promise<void>((resolve) => resolve(this.write(batch.map((p) => p.receipt)))).then(
      () => {
        for (const p of batch) p.resolve();
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
    void this.writing.finally(() => {
      this.writing = null;
      this.schedule();
    });
    return this.writing;
  }
}
