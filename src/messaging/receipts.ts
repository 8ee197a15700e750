type Receipt = { sessionPubkey: string; ids: string[] };

/** the longest a batch waits for a fan-out: broadcasts one after another never keep receipts from the store longer */
const MAX_HOLD_MS = 20;
/** the most receipts one write takes */
const MAX_BATCH = 256;

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

  private readonly gate: () => Promise<void> | null;
  private readonly maxHoldMs: number;

  /**
   * `gate`: while it gives a promise (a broadcast still pushing its later slices), the batch waits for
   * it, at most `maxHoldMs`, and gathers the receipts that come meanwhile. Its first recipients' receipts
   * arrive between its slices; written there, each batch's statement and commit held up the next slice.
   */
  constructor(
    private readonly write: (batch: Receipt[]) => Promise<void>,
    opts: { gate?: () => Promise<void> | null; maxHoldMs?: number } = {},
  ) {
    this.gate = opts.gate ?? (() => null);
    this.maxHoldMs = opts.maxHoldMs ?? MAX_HOLD_MS;
  }

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

  private async flush(wait = true): Promise<void> {
    const held = wait ? this.gate() : null;
    if (held) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([held, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.maxHoldMs)))]);
      clearTimeout(timer);
    }
    // one receipt, one waiter: a batch of the first MAX_BATCH, the rest in the next turn (a broadcast's
    // thousand, held for its fan-out, would hold the event loop for their one statement)
    const batch = this.pending.splice(0, MAX_BATCH);
    const waiters = this.waiters.splice(0, MAX_BATCH);
    if (this.pending.length > 0) setImmediate(() => void this.flush(false));
    else this.scheduled = false;
    try {
      await this.write(batch);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }
}
