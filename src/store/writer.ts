import type { SQL } from "bun";
import { GroupCommit, type Outcome } from "./group-commit.ts";
import type { Dialect } from "./migration.ts";

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

  /**
   * `dialect` postgres: each transaction first turns sequential scans off for itself (`SET LOCAL`). Every
   * statement of the hot writes finds its rows by a key, and Postgres caches a prepared statement's plan
   * per connection: a plan made while a table was small (where a scan is cheapest) stayed a scan once the
   * table held 100,000 rows, until the next ANALYZE (a broadcast's receipts: 56 ms instead of ~3).
   */
  constructor(sql: SQL, dialect: Dialect, maxBatch = 256) {
    this.batches = new GroupCommit<WriteJob<unknown>, unknown>(async (jobs) => {
      const started = performance.now();
      try {
        return await sql.begin(async (tx) => {
          if (dialect === "postgres") await tx`SET LOCAL enable_seqscan = off`;
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
