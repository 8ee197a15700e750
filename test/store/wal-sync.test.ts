import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/db.ts";
import { WalSync } from "../../src/store/wal-sync.ts";
import { tempDir, withStore } from "../helpers/backends.ts";
import { holdTransaction } from "../helpers/held-transaction.ts";

// The SQLite writer's transactions (`wal-sync.ts`): committed with NORMAL, made durable by an fdatasync of the WAL.
describe("the writer's transactions on SQLite", () => {
  const synchronous = async (sql: Store["sql"]) => Number(((await sql`PRAGMA synchronous`) as Record<string, unknown>[])[0]?.synchronous);

  test("commit without an fsync (NORMAL) inside; every other statement on the connection stays FULL, also after a failed job", async () => {
    await withStore("sqlite", "store/wal-sync", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      expect(await synchronous(store.sql)).toBe(2);
      const inside = await store.writer.write(async (tx) => {
        await tx`INSERT INTO t (n) VALUES (1)`;
        return { ok: true, value: await synchronous(tx) };
      });
      expect(inside).toBe(1);
      expect(await synchronous(store.sql)).toBe(2);
      // a store failure inside a job rolls the whole transaction back and still restores FULL
      await expect(
        store.writer.write(async (tx) => {
          await tx`INSERT INTO t (n) VALUES (2)`;
          await tx`INSERT INTO no_such_table (n) VALUES (3)`;
          return { ok: true, value: null };
        }),
      ).rejects.toThrow();
      expect(await synchronous(store.sql)).toBe(2);
      expect(((await store.sql`SELECT n FROM t ORDER BY n`) as { n: number }[]).map((r) => r.n)).toEqual([1]);
      // and the connection takes transactions of its own again
      await store.sql.begin(async (tx) => {
        await tx`INSERT INTO t (n) VALUES (4)`;
      });
      expect(((await store.sql`SELECT count(*) AS c FROM t`) as { c: number }[])[0]?.c).toBe(2);
    });
  });

  test("a transaction that cannot begin (another one is open on the connection) fails alone and leaves the connection FULL", async () => {
    await withStore("sqlite", "store/wal-sync", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      const { release, done: other } = holdTransaction(store, 1);
      await expect(
        store.writer.write(async (tx) => {
          await tx`INSERT INTO t (n) VALUES (2)`;
          return { ok: true, value: null };
        }),
      ).rejects.toThrow();
      release();
      await other;
      expect(await synchronous(store.sql)).toBe(2);
      // the other transaction was not rolled back by the writer's failure
      expect(((await store.sql`SELECT n FROM t`) as { n: number }[]).map((r) => r.n)).toEqual([1]);
    });
  });

  test("a sync asked for while one runs waits for one more, shared by everyone who asks meanwhile", async () => {
    const dir = tempDir("cm-wal-");
    const store = await openStore({ dataDir: dir.path });
    const releases: (() => void)[] = [];
    class Counted extends WalSync {
      protected override datasync(): Promise<void> {
        return new Promise((resolve) => releases.push(resolve));
      }
    }
    const wal = new Counted(store.sql, join(dir.path, "claudemesh.sqlite"));
    try {
      const done: string[] = [];
      const a = wal.sync().then(() => done.push("a"));
      const b = wal.sync().then(() => done.push("b"));
      const c = wal.sync().then(() => done.push("c"));
      expect(releases).toHaveLength(1);
      releases[0]?.();
      await a;
      await until(() => releases.length === 2);
      expect(done).toEqual(["a"]);
      releases[1]?.();
      await Promise.all([b, c]);
      expect(releases).toHaveLength(2);
      expect(done.sort()).toEqual(["a", "b", "c"]);
    } finally {
      await wal.close();
      await store.close();
      dir.cleanup();
    }
  });

  test("with the real sync (an fdatasync of the WAL file), a job is answered and durable() settles", async () => {
    await withStore("sqlite", "store/wal-sync", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      const value = await store.writer.write(async (tx) => {
        await tx`INSERT INTO t (n) VALUES (1)`;
        return { ok: true, value: "stored" };
      });
      expect(value).toBe("stored");
      await store.writer.durable();
    });
  });
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}
