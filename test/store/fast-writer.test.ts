import { describe, expect, test } from "bun:test";
import type { Store } from "../../src/store/db.ts";
import { FALLBACK } from "../../src/store/writer.ts";
import { withStore } from "../helpers/backends.ts";
import { holdTransaction } from "../helpers/held-transaction.ts";

type Row = Record<string, unknown>;
const numbers = async (store: Store) => ((await store.sql`SELECT n FROM t ORDER BY n`) as Row[]).map((r) => Number(r.n));

// The writer's fast path on SQLite (`fast-writer.ts`): a connection of its own, statements kept prepared,
// each transaction within one call; anything it cannot do goes the general way, as if it had not run.
describe("the writer's fast path on SQLite", () => {
  test("a batch whose every job has a fast form commits there, visible to the store's connection", async () => {
    await withStore("sqlite", "store/fast-writer", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      const before = { ...store.writer.counts };
      const general = async () => ({ ok: false as const, error: new Error("the general form ran") });
      const values = await Promise.all(
        [1, 2, 3].map((n) =>
          store.writer.write(general, (db) => {
            db.run("INSERT INTO t (n) VALUES (?)", [n]);
            // one transaction: each job sees the rows of the jobs before it
            return { ok: true, value: Number(db.all("SELECT count(*) AS c FROM t", [])[0]?.c) };
          }),
        ),
      );
      expect(values).toEqual([1, 2, 3]);
      expect(store.writer.counts).toEqual({ fast: before.fast + 1, general: before.general });
      expect(await numbers(store)).toEqual([1, 2, 3]);
    });
  });

  test("a job that falls back sends the whole batch the general way, nothing of the fast forms kept", async () => {
    await withStore("sqlite", "store/fast-writer", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      const before = { ...store.writer.counts };
      const job = (n: number, fallBack: boolean) =>
        store.writer.write(
          async (tx) => {
            await tx`INSERT INTO t (n) VALUES (${n * 10})`;
            return { ok: true, value: `general ${n}` };
          },
          (db) => {
            db.run("INSERT INTO t (n) VALUES (?)", [n]);
            return fallBack ? FALLBACK : { ok: true, value: `fast ${n}` };
          },
        );
      expect(await Promise.all([job(1, false), job(2, true), job(3, false)])).toEqual(["general 1", "general 2", "general 3"]);
      expect(store.writer.counts).toEqual({ fast: before.fast, general: before.general + 1 });
      expect(await numbers(store)).toEqual([10, 20, 30]);
    });
  });

  test("a job without a fast form, or a fast statement that fails, goes the general way", async () => {
    await withStore("sqlite", "store/fast-writer", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      const general = (n: number) => async (tx: Store["sql"]) => {
        await tx`INSERT INTO t (n) VALUES (${n})`;
        return { ok: true as const, value: n };
      };
      expect(await Promise.all([store.writer.write(general(1), () => ({ ok: true, value: -1 })), store.writer.write(general(2))])).toEqual([1, 2]);
      const failing = store.writer.write(general(3), (db) => {
        db.run("INSERT INTO t (n) VALUES (?)", [-3]);
        db.run("INSERT INTO no_such_table (n) VALUES (?)", [3]);
        return { ok: true, value: -3 };
      });
      expect(await failing).toBe(3);
      expect(await numbers(store)).toEqual([1, 2, 3]);
      // a store failure in the general form is the job's failure, as before
      const broken = store.writer.write(
        async (tx) => {
          await tx`INSERT INTO no_such_table (n) VALUES (4)`;
          return { ok: true, value: 4 };
        },
        (db) => {
          db.run("INSERT INTO no_such_table (n) VALUES (?)", [4]);
          return { ok: true, value: 4 };
        },
      );
      expect(await broken.then(String, (e: Error) => `failed: ${e.message}`)).toContain("no such table");
    });
  });

  test("the write lock held by the store's connection: the fast path does not wait for it", async () => {
    await withStore("sqlite", "store/fast-writer", async (store) => {
      await store.sql`CREATE TABLE t (n integer)`;
      const { release, done: other } = holdTransaction(store, 1);
      const before = { ...store.writer.counts };
      const started = performance.now();
      const outcome = await store.writer
        .write(
          async (tx) => {
            await tx`INSERT INTO t (n) VALUES (2)`;
            return { ok: true, value: "general" };
          },
          (db) => {
            db.run("INSERT INTO t (n) VALUES (?)", [3]);
            return { ok: true, value: "fast" };
          },
        )
        .then(String, () => "refused");
      // at once, not after a busy wait: the general way then meets the open transaction, as it always did
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(outcome).toBe("refused");
      expect(store.writer.counts.general).toBe(before.general + 1);
      release();
      await other;
      expect(await numbers(store)).toEqual([1]);
      // and with the lock free again, the fast path takes the next batch
      expect(
        await store.writer.write(
          async () => ({ ok: true, value: "general" }),
          () => ({ ok: true, value: "fast" }),
        ),
      ).toBe("fast");
    });
  });

  test("a prepared read sees what either connection committed, and answers null where it cannot run", async () => {
    await withStore("sqlite", "store/fast-writer", async (store) => {
      const read = store.prepared as NonNullable<Store["prepared"]>;
      await store.sql`CREATE TABLE t (n integer)`;
      await store.sql`INSERT INTO t (n) VALUES (1)`;
      await store.writer.write(
        async () => ({ ok: false, error: new Error("the general form ran") }),
        (db) => {
          db.run("INSERT INTO t (n) VALUES (?)", [2]);
          return { ok: true, value: undefined };
        },
      );
      const query = "SELECT n FROM t WHERE n >= ? ORDER BY n";
      expect(read(query, [1])?.map((r) => r.n)).toEqual([1, 2]);
      // the same statement again, prepared once: and a row committed since is there
      await store.sql`INSERT INTO t (n) VALUES (3)`;
      expect(read(query, [2])?.map((r) => r.n)).toEqual([2, 3]);
      expect(read("SELECT n FROM no_such_table", [])).toBeNull();
    });
  });
});
