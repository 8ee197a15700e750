import type { SQL } from "bun";
import { type FileHandle, open } from "node:fs/promises";
import type { Transaction } from "./writer.ts";

/**
 * The writer's transactions on SQLite, durable without an fsync on the event loop. Each one commits with
 * `synchronous = NORMAL` (WAL: the commit is in the WAL file, in the OS's cache; it survives kill -9), and
 * its jobs are answered only after an fdatasync of the WAL file, which Bun runs on its thread pool (the
 * event loop is held ~25 µs instead of the commit's ~0.7–0.9 ms fsync). Outside these transactions the
 * connection stays `synchronous = FULL`, so every other commit still syncs itself before it returns.
 *
 * Why this is as durable as FULL for what is answered: a transaction's WAL frames are appended before
 * COMMIT returns, and fdatasync of any descriptor of the file flushes them; a checkpoint in between syncs
 * the WAL before copying it (SQLite does, in NORMAL) and the database after.
 */
export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  private inflight: Promise<void> | null = null;
  private again: Promise<void> | null = null;

  constructor(
    private readonly sql: SQL,
    private readonly file: string,
  ) {}

  /**
   * One transaction of `body`. The safety level is changed in the same native call as BEGIN and as
   * COMMIT (SQLite refuses to change it inside a transaction), so no other statement on the connection
   * ever runs with NORMAL outside the writer's transaction. The transaction is the writer's alone: it
   * runs from a turn of its own and awaits nothing but its statements, as `sql.begin` bodies here do
   * (they and it would otherwise meet as "a transaction within a transaction").
   */
  readonly transaction: Transaction = async (body) => {
    try {
      await this.sql.unsafe("PRAGMA synchronous = NORMAL; BEGIN");
    } catch (err) {
      // BEGIN refused after the PRAGMA ran: the level goes back; nothing of ours is open to roll back
      await this.sql.unsafe("PRAGMA synchronous = FULL").catch(() => {});
      throw err;
    }
    let out: Awaited<ReturnType<typeof body>>;
    try {
      out = await body(this.sql);
      await this.sql.unsafe("COMMIT; PRAGMA synchronous = FULL");
    } catch (err) {
      // a failed COMMIT leaves the transaction open: roll it back, then the safety level (each may fail alone)
      await this.sql.unsafe("ROLLBACK").catch(() => {});
      await this.sql.unsafe("PRAGMA synchronous = FULL").catch(() => {});
      throw err;
    }
    return out;
  };

  /**
   * Settles once everything committed before the call is on disk. A sync already running may have begun
   * before that commit: the caller waits for it and for one more, which everyone who asks meanwhile shares.
   */
  readonly sync = (): Promise<void> => {
    if (!this.inflight) {
      const run = this.datasync().finally(() => {
        this.inflight = null;
      });
      this.inflight = run;
      return run;
    }
    this.again ??= this.inflight
      .catch(() => {})
      .then(() => {
        this.again = null;
        return this.sync();
      });
    return this.again;
  };

  protected async datasync(): Promise<void> {
    const handle = (this.handle ??= open(`${this.file}-wal`, "r"));
    try {
      await (await handle).datasync();
    } catch (err) {
      // opened again next time (the WAL may not have existed yet)
      if (this.handle === handle) this.handle = undefined;
      await handle.then((h) => h.close()).catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close().catch(() => {});
  }
}
