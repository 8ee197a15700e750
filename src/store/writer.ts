import type { SQL } from "bun";
import { GroupCommit, type Outcome } from "./group-commit.ts";

/** One piece of a shared transaction: its own outcome; a throw means the store failed and aborts them all. */
export type WriteJob<R> = (tx: SQL) => Promise<Outcome<R>>;

/**
 * The store's one write path for the hot writes of every feature (message inserts, receipts, presence
 * rows): what they queue while a transaction is in flight, or in the same burst of socket events, shares
 * the next transaction and so its one commit (on SQLite with synchronous=FULL, its one fsync). A send's
 * insert and the previous push's receipt, which arrive together, cost one commit, not two.
 */
export class Writer {
  private readonly batches: GroupCommit<WriteJob<unknown>, unknown>;

  /** `sql`: the writer's own connection on Postgres (`openStore` says how it is set up), SQLite's one. */
  constructor(sql: SQL, maxBatch = 256) {
    this.batches = new GroupCommit<WriteJob<unknown>, unknown>(async (jobs) => {
      const started = performance.now();
      try {
        return await sql.begin(async (tx) => {
          const out: Outcome<unknown>[] = [];
          for (const job of jobs) out.push(await job(tx));
          return out;
        });
      } finally {
        this.observe?.(jobs.length, (performance.now() - started) / 1000);
      }
    }, maxBatch);
  }

  /** told each transaction's number of jobs and how long it took until committed, for metrics */
  observe: ((jobs: number, seconds: number) => void) | undefined;

  /** Settles once the transaction holding `job` committed: with its value, or its own refusal. */
  write<R>(job: WriteJob<R>): Promise<R> {
    return this.batches.add(job) as Promise<R>;
  }
}
