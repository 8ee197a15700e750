import { Database } from "bun:sqlite";
import { FALLBACK, type FastDb, type FastParam, type FastTransaction } from "./writer.ts";

/**
 * SQLite: the writer's common case on a connection of its own, whose prepared statements are kept
 * (`bun:sqlite`'s `query` cache). `bun:sql`'s SQLite adapter compiles every statement again; in the
 * broker, with its caches cold from everything else it runs, a compile took 60–140 µs (the same statement
 * compiled in a loop: ~15 µs), ~0.5 ms of every transaction, the most of any one thing in a profile.
 *
 * Safe beside the broker's own connection because a transaction here never spans an await: it begins,
 * runs its statements and commits within one call, so no other statement of the process can run while it
 * holds the write lock, and it cannot wait for a lock the event loop would have to release. It never waits
 * at all (`busy_timeout` 0): if the lock is held (a transaction on the other connection left open across
 * turns, which none here is) the batch goes the general way, on the broker's connection, as before.
 *
 * Its commits are `synchronous = NORMAL` (in the WAL, not yet on disk); the writer answers its jobs only
 * after the WAL's fdatasync (`wal-sync.ts`), which syncs whatever either connection appended.
 */
export class FastWriter {
  private readonly db: Database;
  private readonly fastDb: FastDb;

  constructor(file: string) {
    this.db = new Database(file, { readwrite: true, create: false });
    this.db.run("PRAGMA busy_timeout = 0");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("PRAGMA foreign_keys = ON");
    const db = this.db;
    this.fastDb = {
      all: (text, params) => db.query(text).all(...params) as Record<string, unknown>[],
      run: (text, params) => void db.query(text).run(...params),
    };
  }

  /** Its commits checkpoint the WAL past this many pages, as the broker's connection's do (`checkpointer.ts`). */
  autocheckpoint(pages: number): void {
    this.db.run(`PRAGMA wal_autocheckpoint = ${pages}`);
  }

  readonly transaction: FastTransaction = (body) => {
    try {
      this.db.query("BEGIN IMMEDIATE").run();
    } catch {
      return null;
    }
    try {
      const out = body(this.fastDb);
      if (out === FALLBACK) {
        this.db.query("ROLLBACK").run();
        return null;
      }
      this.db.query("COMMIT").run();
      return out;
    } catch {
      // a statement or the commit failed: nothing of it stays, and the general way reports the failure
      try {
        if (this.db.inTransaction) this.db.query("ROLLBACK").run();
      } catch {}
      return null;
    }
  };

  /**
   * A read on this connection, its statement kept prepared like the writes' (a hot read's compile cost as
   * much as its run). It sees what is committed, by either connection; null if it fails (the caller reads
   * the general way, which reports the failure).
   */
  read(text: string, params: readonly FastParam[]): Record<string, unknown>[] | null {
    try {
      return this.fastDb.all(text, params);
    } catch {
      return null;
    }
  }

  close(): void {
    this.db.close();
  }
}
