import { describe, expect, test } from "bun:test";
import { meshesMigration } from "../../src/meshes/schema.ts";
import { MessageRepo } from "../../src/messaging/repo.ts";
import { inboxIndexMigration, messageQuotaMigration, messagingMigration, queuedIndexMigration } from "../../src/messaging/schema.ts";
import { migrate } from "../../src/store/migrate.ts";
import { backends, withStore } from "../helpers/backends.ts";

const MIGRATIONS = [meshesMigration, messagingMigration, messageQuotaMigration, inboxIndexMigration, queuedIndexMigration];
type Row = Record<string, unknown>;

// The delivery indexes hold queued rows only (migration 18): the queue reads must still find exactly
// the queued rows through them, and each read a delivery makes must be one the index can serve.
describe.each(backends())("the queued-only delivery indexes on %s", (backend) => {
  test("queue reads, depth and expiry see queued rows only, each through a queued-only index", async () => {
    await withStore(backend, "messaging/queued-index", async (store, schema) => {
      // the migration also applies to a store that already holds rows
      await migrate(store, MIGRATIONS.slice(0, 4));
      const sql = store.sql;
      await sql`INSERT INTO mesh (id, slug, owner_pubkey, created_at) VALUES ('mesh_1', 'm', 'k', 1)`;
      await sql`INSERT INTO member (id, mesh_id, pubkey, display_name, role, joined_at) VALUES ('mbr_a', 'mesh_1', 'pa', 'alice', 'member', 1)`;
      const add = async (id: string, priority: string, rows: [session: string, status: string, expiresAt: number][]) => {
        await sql`INSERT INTO message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at)
          VALUES (${id}, 'mesh_1', 'mbr_a', 'sa', 'alice', ${id}, 'bob', ${priority}, 'direct', null, null, 10)`;
        for (const [session, status, expiresAt] of rows) {
          await sql`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at)
            VALUES (${id}, 'mesh_1', ${session}, 'mbr_b', 'bob', 'nn', 'cc', ${status}, 10, ${expiresAt})`;
        }
      };
      await add("m1", "now", [
        ["s1", "queued", 5_000],
        ["s2", "delivered", 5_000],
      ]);
      await add("m2", "next", [
        ["s1", "surfaced", 5_000],
        ["s2", "queued", 5_000],
      ]);
      await add("m3", "low", [["s1", "queued", 5_000]]);
      await add("m4", "now", [
        ["s1", "queued", 1_500],
        ["s2", "expired", 1_000],
      ]);
      expect(await migrate(store, MIGRATIONS)).toEqual([queuedIndexMigration.version]);

      const indexes =
        backend === "sqlite"
          ? ((await sql`SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message_recipient' AND sql IS NOT NULL ORDER BY name`) as Row[])
          : ((await sql`SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = ${schema ?? ""} AND tablename = 'message_recipient' AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key' ORDER BY indexname`) as Row[]);
      expect(indexes.map((r) => r.name)).toEqual(["message_recipient_expiring_idx", "message_recipient_queued_idx"]);
      for (const r of indexes) expect(String(r.def)).toMatch(/WHERE \(?status = 'queued'/);

      const repo = new MessageRepo(store);
      const now = 2_000;
      const queues = await repo.queues(["s1", "s2"], ["now", "next"], now);
      expect(queues.get("s1")?.messages.map((m) => m.messageId)).toEqual(["m1"]);
      expect(queues.get("s1")?.low).toEqual(["m3"]);
      expect(queues.get("s2")?.messages.map((m) => m.messageId)).toEqual(["m2"]);
      expect((await repo.queuedFor("s1", ["now", "next", "low"], now)).map((m) => m.messageId)).toEqual(["m1", "m3"]);
      expect(await repo.queueDepth(now)).toBe(3);
      expect(await repo.expire(now)).toBe(1); // m4 for s1; s2's copy was already expired
      await repo.markDelivered([{ sessionPubkey: "s1", ids: ["m1"] }], now);
      expect((await repo.queues(["s1"], ["now"], now)).get("s1")?.messages).toEqual([]);
      expect(await repo.queueDepth(now)).toBe(2);

      // The planner must be able to serve each read from a queued-only index. Postgres plans by
      // statistics: it gets a queue of other sessions' rows and an ANALYZE, and is told to avoid a
      // sequential scan (on a table this small it would otherwise always pick one).
      if (backend === "postgres") {
        await sql`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, status, queued_at, expires_at)
          SELECT 'm1', 'mesh_1', 'other-' || g, 'mbr_b', 'bob', 'queued', 10, 5000 FROM generate_series(1, 2000) g`;
        await sql`ANALYZE message_recipient`;
      }
      const plan = async (query: string): Promise<string> => {
        if (backend === "sqlite") return ((await sql.unsafe(`EXPLAIN QUERY PLAN ${query}`)) as Row[]).map((r) => String(r.detail)).join("\n");
        const conn = await sql.reserve();
        try {
          await conn.unsafe("SET enable_seqscan = off");
          return ((await conn.unsafe(`EXPLAIN ${query}`)) as Row[]).map((r) => String(r["QUERY PLAN"])).join("\n");
        } finally {
          conn.release();
        }
      };
      expect(await plan("SELECT message_id FROM message_recipient WHERE session_pubkey = 's1' AND status = 'queued' AND expires_at > 0")).toContain(
        "message_recipient_queued_idx",
      );
      expect(await plan("SELECT count(*) FROM message_recipient WHERE status = 'queued' AND expires_at > 0")).toContain("message_recipient_expiring_idx");
      expect(await plan("UPDATE message_recipient SET status = 'expired' WHERE status = 'queued' AND expires_at <= 5")).toContain(
        "message_recipient_expiring_idx",
      );
      // receipts (markDelivered) find each (message, session) pair through the unique key
      const pairs = `'${JSON.stringify([
        ["m1", "other-7"],
        ["m2", "s2"],
      ])}'`;
      const receipts =
        backend === "sqlite"
          ? `UPDATE message_recipient SET status = 'delivered' WHERE (message_id, session_pubkey) IN (SELECT j.value ->> 0, j.value ->> 1 FROM json_each(${pairs}) j) AND status = 'queued'`
          : `WITH hit AS MATERIALIZED (SELECT h.seq FROM json_array_elements(${pairs}::json) AS j(v)
               CROSS JOIN LATERAL (SELECT r.seq FROM message_recipient r WHERE r.message_id = j.v ->> 0 AND r.session_pubkey = j.v ->> 1 LIMIT 1) h)
             UPDATE message_recipient SET status = 'delivered' WHERE seq = ANY(ARRAY(SELECT seq FROM hit)) AND status || '' = 'queued'`;
      const receiptsPlan = await plan(receipts);
      if (backend === "sqlite") expect(receiptsPlan).toMatch(/USING INDEX sqlite_autoindex_message_recipient_1 \(message_id=\? AND session_pubkey=\?\)/);
      else {
        // each pair looked up by the unique key (a nested loop), then the rows by primary key
        expect(receiptsPlan).toContain("Index Cond: ((message_id = (j.v ->> 0)) AND (session_pubkey = (j.v ->> 1)))");
        expect(receiptsPlan).toContain("Index Cond: (seq = ANY");
      }
    });
  });
});
