import type { SQL } from "bun";
import { GroupCommit, type Outcome } from "./group-commit.ts";

/** One piece of a shared transaction: its own outcome; a throw means the store failed and aborts them all. */
export type WriteJob<R> = (tx: SQL) => Promise<Outcome<R>>;

/** Runs `body` in one transaction and commits it. */
export type Transaction = <T>(body: (tx: SQL) => Promise<T>) => Promise<T>;

export interface WriterOptions {
  /**
   * Makes everything committed so far durable (SQLite: an fdatasync of the WAL, `wal-sync.ts`), for a
   * `transaction` whose commit does not wait for the disk. Without it a commit is durable when it returns.
   */
  sync?: () => Promise<void>;
}

/**
 * The store's one write path for the hot writes of every feature (message inserts, receipts): what they
 * queue while a transaction is in flight, or in the same burst of socket events, shares the next
 * transaction and so its one commit (and its one sync to disk). A send's insert and the previous push's
 * receipt, which arrive together, cost one commit, not two. With `sync`, the next transaction may start
 * while the last one's sync runs; each job is answered only once its own transaction is on disk.
 */
export class Writer {
  private readonly batches: GroupCommit<WriteJob<unknown>, unknown>;
  private synced: Promise<void> = Promise.resolve();

  constructor(transaction: Transaction, opts: WriterOptions = {}) {
    const { sync } = opts;
    this.batches = new GroupCommit<WriteJob<unknown>, unknown>(async (jobs) => {
      const started = performance.now();
      let out: Outcome<unknown>[];
      try {
        out = await transaction(async (tx) => {
          const out: Outcome<unknown>[] = [];
          for (const job of jobs) out.push(await job(tx));
          return out;
        });
      } finally {
        this.observe?.(jobs.length, (performance.now() - started) / 1000);
      }
      if (!sync) return out;
      const durable = sync();
      this.synced = durable.catch(() => {});
      // a stored job settles with its value once on disk (or with the sync's failure); a refusal stored nothing
      return out.map((o) => (o.ok ? { ok: true, value: durable.then(() => o.value) } : o));
    });
  }

  /** told each transaction's number of jobs and how long it took until committed, for metrics */
  observe: ((jobs: number, seconds: number) => void) | undefined;

  /** Settles once the transaction holding `job` committed (and is on disk): with its value, or its own refusal. */
  write<R>(job: WriteJob<R>): Promise<R> {
    return this.batches.add(job) as Promise<R>;
  }

  /**
   * Settles once every transaction committed so far is on disk. For reads whose rows go out to a client
   * (a queue read's pushes, a duplicate's ack): a commit is visible to them before its sync is done.
   */
  durable(): Promise<void> {
    return this.synced;
  }
}
