import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/db.ts";
import { WalSync } from "../../src/store/wal-sync.ts";
import { Writer } from "../../src/store/writer.ts";
import { backends, tempDir, withStore } from "../helpers/backends.ts";

describe.each(backends())("the shared writer on %s", (backend) => {
  test("jobs queued together share one transaction; on Postgres it plans no sequential scan, and only it", async () => {
    await withStore(backend, "store/writer", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      const seen = await Promise.all(
        [1, 2, 3].map((n) =>
          store.writer.write(async (tx) => {
            await tx`INSERT INTO t (n) VALUES (${n})`;
            const setting = backend === "postgres" ? String(((await tx`SHOW enable_seqscan`) as Record<string, unknown>[])[0]?.enable_seqscan) : "n/a";
            const [row] = (await tx`SELECT count(*) AS c FROM t`) as Record<string, unknown>[];
            return { ok: true, value: `${setting} ${Number(row?.c)}` };
          }),
        ),
      );
      // one transaction: each job sees the rows of the jobs before it
      expect(seen).toEqual(backend === "postgres" ? ["off 1", "off 2", "off 3"] : ["n/a 1", "n/a 2", "n/a 3"]);
      if (backend === "postgres") {
        // the writer has a connection of its own: other statements plan as usual
        const [outside] = (await store.sql`SHOW enable_seqscan`) as Record<string, unknown>[];
        expect(outside?.enable_seqscan).toBe("on");
      }
    });
  });
});

describe("the writer's transactions on SQLite", () => {
  const synchronous = async (sql: Store["sql"]) => Number(((await sql`PRAGMA synchronous`) as Record<string, unknown>[])[0]?.synchronous);

  test("commit without an fsync (NORMAL) inside; every other statement on the connection stays FULL, also after a failed job", async () => {
    await withStore("sqlite", "store/writer", async (store) => {
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

  test("a job is answered only once the sync after its commit is done; the next transaction does not wait for it", async () => {
    const dir = tempDir("cm-wal-");
    const store = await openStore({ dataDir: dir.path });
    const releases: (() => void)[] = [];
    const held = new Writer((body) => store.sql.begin((tx) => body(tx)), {
      sync: () => new Promise<void>((resolve) => releases.push(resolve)),
    });
    const count = async () => Number(((await store.sql`SELECT count(*) AS c FROM t`) as { c: number }[])[0]?.c);
    try {
      await store.sql`CREATE TABLE t (n integer)`;
      const answered: string[] = [];
      const job = (n: number, name: string) =>
        held
          .write(async (tx) => {
            await tx`INSERT INTO t (n) VALUES (${n})`;
            return { ok: true, value: name };
          })
          .then((v) => answered.push(v));
      const first = job(1, "first");
      await until(() => releases.length === 1);
      // committed, so visible, but not on disk yet: not answered, and reads that wait for the disk wait
      expect(await count()).toBe(1);
      let durable = false;
      void held.durable().then(() => {
        durable = true;
      });
      // the next transaction commits while the first one's sync still runs
      const second = job(2, "second");
      await until(() => releases.length === 2);
      expect(await count()).toBe(2);
      releases[1]?.();
      await second;
      expect(answered).toEqual(["second"]);
      expect(durable).toBe(false);
      releases[0]?.();
      await first;
      await until(() => durable);
      expect(answered).toEqual(["second", "first"]);
    } finally {
      for (const r of releases) r();
      await store.close();
      dir.cleanup();
    }
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
    await withStore("sqlite", "store/writer", async (store) => {
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
