import { describe, expect, test } from "bun:test";
import { backends, withStore } from "../helpers/backends.ts";

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
