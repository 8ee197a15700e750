import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SQL } from "bun";
import { MessageRepo } from "../../src/messaging/repo.ts";
import { inList, jsonRows, type Store } from "../../src/store/db.ts";
import { backends } from "../helpers/backends.ts";
import { startTestBroker, type TestBroker } from "../helpers/broker.ts";

describe.each(backends())("lists as one JSON parameter on %s", (backend) => {
  let b: TestBroker;
  beforeAll(async () => {
    b = await startTestBroker(backend);
  });
  afterAll(() => b.destroy());

  test("inList matches exactly the listed values, of any length and content", async () => {
    const odd = ["a", "it's", 'quote"d', "back\\slash", "ünï", "", "a"];
    for (const values of [[], ["a"], odd, Array.from({ length: 700 }, (_, i) => `k${i}`)]) {
      const rows = (await b.store.sql`SELECT v FROM (SELECT 'a' AS v UNION ALL SELECT 'it''s' UNION ALL SELECT 'k699' UNION ALL SELECT 'zz') t
        WHERE v ${inList(b.store.sql, b.store.dialect, values)} ORDER BY v`) as { v: string }[];
      expect(rows.map((r) => r.v)).toEqual(["a", "it's", "k699", "zz"].filter((v) => values.includes(v)));
    }
  });

  test("jsonRows gives each row's fields by column, in the rows' order, with any content", async () => {
    const sql = b.store.sql;
    await sql.unsafe("CREATE TABLE json_rows_probe (n bigint NOT NULL, s text, t text)");
    try {
      const odd = ["it's", 'quote"d', "back\\slash", "ünï ✓", "", "[1,2]", '{"a":1}'];
      // more than ten rows: their order must not be the order of their keys as text
      const rows = Array.from({ length: 23 }, (_, i) => ({ s: odd[i % odd.length] ?? "", n: 2 ** 40 + i, ...(i % 3 ? { t: `t${i}` } : {}), extra: "ignored" }));
      await sql`INSERT INTO json_rows_probe (s, n, t) ${jsonRows(sql, b.store.dialect, rows, ["s", ["n", "bigint"], "t"])}`;
      const got = (await sql`SELECT n, s, t FROM json_rows_probe ORDER BY n`) as { n: string | number; s: string; t: string | null }[];
      expect(got.map((r) => [Number(r.n), r.s, r.t])).toEqual(rows.map((r) => [r.n, r.s, r.t ?? null]));
      if (backend === "sqlite") {
        // and in the order given (SQLite's rowids follow the insert's order)
        const order = (await sql`SELECT n FROM json_rows_probe ORDER BY rowid`) as { n: number }[];
        expect(order.map((r) => Number(r.n))).toEqual(rows.map((r) => r.n));
      }
    } finally {
      await sql.unsafe("DROP TABLE json_rows_probe");
    }
  });

  // Postgres keeps a prepared statement per statement text on each connection: a list spelled as N
  // placeholders made one per length, and a connect storm's queue reads (batches of every size) grew
  // the broker and the server by ~25 KB a shape.
  if (backend === "postgres")
    test("queue reads of every batch size reuse one prepared statement on a connection", async () => {
      const conn = (await b.store.sql.reserve()) as unknown as SQL & { release(): void };
      try {
        const repo = new MessageRepo({ ...b.store, sql: conn } as Store);
        const count = async () => Number(((await conn`SELECT count(*) AS n FROM pg_prepared_statements`) as { n: string }[])[0]?.n);
        await repo.queues(["warm"], ["now", "next"], Date.now());
        const before = await count();
        for (let n = 1; n <= 40; n++) {
          const keys = Array.from({ length: n }, (_, i) => `session-${n}-${i}`);
          const queues = await repo.queues(keys, ["now", "next"], Date.now());
          expect(queues.size).toBe(n);
        }
        expect((await count()) - before).toBeLessThanOrEqual(1);
      } finally {
        conn.release();
      }
    });
});
