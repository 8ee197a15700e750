import type { SQL } from "bun";
import { GroupCommit, type Outcome } from "./group-commit.ts";

/** One piece of a shared transaction: its own outcome; a throw means the store failed and aborts them all. */
export type WriteJob<R> = (tx: SQL) => Promise<Outcome<R>>;

/** Runs `body` in one transaction and commits it. */
export type Transaction = <T>(body: (tx: SQL) => Promise<T>) => Promise<T>;

/** Statements on a synchronous connection whose prepared statements are kept (`fast-writer.ts`); `?` placeholders. */
export interface FastDb {
  all(text: string, params: readonly FastParam[]): Record<string, unknown>[];
  run(text: string, params: readonly FastParam[]): void;
}
export type FastParam = string | number | null;

/** What a fast job returns when its case is not the common one: the whole batch goes the general way. */
export const FALLBACK: unique symbol = Symbol("fallback");

/**
 * A job's common case, written for `FastDb`: it runs with no await, so its transaction opens and commits
 * within one call. `FALLBACK` (a quota nearly full, a repeated client id…) sends the batch, rolled back,
 * to the general `WriteJob`s.
 */
export type FastJob<R> = (db: FastDb) => Outcome<R> | typeof FALLBACK;

/**
 * Runs `body` in one transaction of the synchronous connection and commits it; null when it could not
 * (the body fell back, or the connection could not take the write lock at once), everything undone.
 */
export type FastTransaction = (body: (db: FastDb) => Outcome<unknown>[] | typeof FALLBACK) => Outcome<unknown>[] | null;

export interface WriterOptions {
  /**
   * Makes everything committed so far durable (SQLite: an fdatasync of the WAL, `wal-sync.ts`), for a
   * `transaction` whose commit does not wait for the disk. Without it a commit is durable when it returns.
   */
  sync?: () => Promise<void>;
  /** SQLite: batches whose every job has a fast form run there first (`fast-writer.ts`) */
  fast?: FastTransaction;
}

interface Item {
  job: WriteJob<unknown>;
  fast: FastJob<unknown> | undefined;
}

/**
 * The store's one write path for the hot writes of every feature (message inserts, receipts): what they
 * queue while a transaction is in flight, or in the same burst of socket events, shares the next
 * transaction and so its one commit (and its one sync to disk). A send's insert and the previous push's
 * receipt, which arrive together, cost one commit, not two. With `sync`, the next transaction may start
 * while the last one's sync runs; each job is answered only once its own transaction is on disk.
 */
export class Writer {
  private readonly batches: GroupCommit<Item, unknown>;
  private synced: Promise<void> = Promise.resolve();
  /** transactions committed by the fast path, and batches it handed to the general one (tests, benches) */
  readonly counts = { fast: 0, general: 0 };

  constructor(transaction: Transaction, opts: WriterOptions = {}) {
    const { sync, fast } = opts;
    this.batches = new GroupCommit<Item, unknown>(async (items) => {
      const started = performance.now();
      let out: Outcome<unknown>[] | null = null;
      try {
        if (fast && items.every((i) => i.fast)) out = fast((db) => runFast(db, items));
        if (out) this.counts.fast++;
        else {
          this.counts.general++;
          out = await transaction(async (tx) => {
            const out: Outcome<unknown>[] = [];
            for (const { job } of items) out.push(await job(tx));
            return out;
          });
        }
      } finally {
        this.observe?.(items.length, (performance.now() - started) / 1000);
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

  /**
   * Settles once the transaction holding `job` committed (and is on disk): with its value, or its own
   * refusal. `fast`, the job's common case on SQLite's synchronous connection, must come to what `job` would.
   */
  write<R>(job: WriteJob<R>, fast?: FastJob<R>): Promise<R> {
    return this.batches.add({ job, fast } as Item) as Promise<R>;
  }

  /**
   * Settles once every transaction committed so far is on disk. For reads whose rows go out to a client
   * (a queue read's pushes, a duplicate's ack): a commit is visible to them before its sync is done.
   */
  durable(): Promise<void> {
    return this.synced;
  }
}

function runFast(db: FastDb, items: Item[]): Outcome<unknown>[] | typeof FALLBACK {
  const out: Outcome<unknown>[] = [];
  for (const { fast } of items) {
    const o = (fast as FastJob<unknown>)(db);
    if (o === FALLBACK) return FALLBACK;
    out.push(o);
  }
  return out;
}
