import { describe, expect, test } from "bun:test";
import { openStore } from "../../src/store/db.ts";
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

describe("a writer whose commits are made durable by a sync", () => {
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
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}
