import { describe, expect, test } from "bun:test";
import { backends, withStore } from "../helpers/backends.ts";

describe.each(backends())("the store on %s", (backend) => {
  test("`planned` reads are planned for their arguments every time: nothing prepared is kept for them", async () => {
    await withStore(backend, "store/db planned", async (store) => {
      await store.sql`CREATE TABLE t (n integer PRIMARY KEY)`;
      await store.sql`INSERT INTO t (n) VALUES (1), (2), (3)`;
      // more runs than Postgres needs before it switches a prepared statement to its cached generic plan
      for (let i = 0; i < 12; i++) expect((await store.planned`SELECT n FROM t WHERE n = ${(i % 3) + 1}`).length).toBe(1);
      if (backend === "postgres") {
        const [kept] = (await store.planned`SELECT count(*)::int AS n FROM pg_prepared_statements`) as { n: number }[];
        expect(kept?.n).toBe(0);
      } else {
        expect(store.planned).toBe(store.sql);
      }
    });
  });
});
