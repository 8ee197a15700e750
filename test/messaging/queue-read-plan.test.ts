import { describe, expect, test } from "bun:test";
import { meshesMigration } from "../../src/meshes/schema.ts";
import { MessageRepo, queueRead } from "../../src/messaging/repo.ts";
import { inboxIndexMigration, messageQuotaMigration, messagingMigration, queuedIndexMigration, queueReadIndexMigration } from "../../src/messaging/schema.ts";
import type { Store } from "../../src/store/db.ts";
import { migrate } from "../../src/store/migrate.ts";
import { backends, withStore } from "../helpers/backends.ts";
import { countPrepared } from "../helpers/prepared.ts";

const MIGRATIONS = [meshesMigration, messagingMigration, messageQuotaMigration, inboxIndexMigration, queuedIndexMigration, queueReadIndexMigration];
type Row = Record<string, unknown>;
type PlanNode = { "Index Name"?: string; "Index Cond"?: string; "Rows Removed by Filter"?: number; Plans?: PlanNode[] };
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/** A migrated store with one mesh, one sender and one message, m1, for recipient rows to point at. */
async function oneMessage(store: Store) {
  await migrate(store, MIGRATIONS);
  const sql = store.sql;
  await sql`INSERT INTO mesh (id, slug, owner_pubkey, created_at) VALUES ('mesh_1', 'm', 'k', 1)`;
  await sql`INSERT INTO member (id, mesh_id, pubkey, display_name, role, joined_at) VALUES ('mbr_a', 'mesh_1', 'pa', 'alice', 'member', 1)`;
  await sql`INSERT INTO message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at)
    VALUES ('m1', 'mesh_1', 'mbr_a', 'sa', 'alice', 'c1', 'bob', 'now', 'direct', null, null, 10)`;
  return sql;
}

// A queue read must find a session's rows by the session, whatever the statistics say. Postgres plans
// from sampled statistics: taken while the queue was empty (a broker's first minutes, or any time before
// autovacuum's next ANALYZE after a burst), every partial index of queued rows looks empty, and with the
// expiring index there the planner walked all of it — every queued row of every mesh — for each read of a
// connect storm (~100–300 ms a read with 100,000 queued in the scale bench).
describe.each(backends())("queue reads with statistics from an empty queue on %s", (backend) => {
  test("a batch's queue read looks each session up in the queued index, reading none of the others' rows", async () => {
    await withStore(backend, "messaging/queue-read-plan", async (store) => {
      const sql = await oneMessage(store);
      // the history the statistics see: delivered rows only
      const series = (n: number) =>
        backend === "postgres"
          ? `SELECT g FROM generate_series(1, ${n}) g`
          : `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n}) SELECT g FROM s`;
      const rows = (status: string, n: number, session: string) =>
        sql.unsafe(`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, status, queued_at, expires_at)
          SELECT 'm1', 'mesh_1', '${session}' || g, 'mbr_b', 'bob', '${status}', 10, 10000000 FROM (${series(n)}) q`);
      await rows("delivered", 5_000, "past-");
      await sql.unsafe("ANALYZE");
      // then a burst of queued rows for sessions that are away, with no ANALYZE after it
      await rows("queued", 20_000, "away-");
      await sql`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, status, queued_at, expires_at)
        VALUES ('m1', 'mesh_1', 'new-7', 'mbr_b', 'bob', 'queued', 10, 10000000)`;

      const sessions = Array.from({ length: 50 }, (_, i) => `new-${i}`);
      const read = queueRead(store.planned, store.dialect, sessions, ["now", "next", "low"], 1_000);
      if (backend === "postgres") {
        const [row] = (await store.planned`EXPLAIN (ANALYZE, FORMAT JSON) ${read}`) as Row[];
        const plan = (row?.["QUERY PLAN"] as { Plan: PlanNode }[])[0]?.Plan as PlanNode;
        const recipients = nodes(plan).filter((n) => n["Index Name"]?.startsWith("message_recipient"));
        expect(recipients.map((n) => n["Index Name"])).toEqual(["message_recipient_queued_idx"]);
        expect(recipients[0]?.["Index Cond"]).toContain("session_pubkey = ANY");
        // not one of the 20,000 away sessions' rows was read and thrown away
        expect(nodes(plan).reduce((sum, n) => sum + (n["Rows Removed by Filter"] ?? 0), 0)).toBe(0);
      } else {
        const detail = ((await sql`EXPLAIN QUERY PLAN ${read}`) as Row[]).map((r) => String(r.detail)).join("\n");
        expect(detail).toMatch(/r USING INDEX message_recipient_queued_idx \(session_pubkey=\? AND expires_at>\?\)/);
      }
      // and it reads the right rows, on SQLite with its statement kept prepared, as the general way does
      const { store: counted, reads: preparedReads } = countPrepared(store);
      const readQueues = (s: Store) => new MessageRepo(s).queues(sessions, ["now", "next"], 1_000);
      const queues = await readQueues(counted);
      expect(preparedReads()).toBe(backend === "sqlite" ? 1 : 0);
      expect(queues.get("new-7")?.messages.map((m) => m.messageId)).toEqual(["m1"]);
      expect([...queues.values()].reduce((n, q) => n + q.messages.length, 0)).toBe(1);
      expect(await readQueues({ ...store, prepared: undefined })).toEqual(queues);
    });
  });

  test("the expiry sweep and the queue depth still count queued rows only", async () => {
    await withStore(backend, "messaging/queue-read-plan", async (store) => {
      const sql = await oneMessage(store);
      for (const [session, status, expiresAt] of [
        ["s1", "queued", 500],
        ["s2", "queued", 5_000],
        ["s3", "delivered", 500],
        ["s4", "queued", 6_000],
      ] as const) {
        await sql`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, status, queued_at, expires_at)
          VALUES ('m1', 'mesh_1', ${session}, 'mbr_b', 'bob', ${status}, 10, ${expiresAt})`;
      }
      const repo = new MessageRepo(store);
      expect(await repo.queueDepth(1_000)).toBe(2);
      expect(await repo.expire(1_000)).toBe(1);
      const statuses = (await sql`SELECT session_pubkey, status FROM message_recipient ORDER BY session_pubkey`) as Row[];
      expect(statuses.map((r) => `${r.session_pubkey}:${r.status}`)).toEqual(["s1:expired", "s2:queued", "s3:delivered", "s4:queued"]);
      expect(await repo.queueDepth(1_000)).toBe(2);
    });
  });
});

describe.each(backends())("a drain (check_messages) on %s", (backend) => {
  test("reads, prepared on SQLite, what the general way reads: low payloads too, in queue order", async () => {
    await withStore(backend, "messaging/queue-read-plan", async (store) => {
      const sql = await oneMessage(store);
      for (const [id, priority, created] of [
        ["m3", "low", 30],
        ["m2", "next", 20],
      ] as const) {
        await sql`INSERT INTO message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at)
          VALUES (${id}, 'mesh_1', 'mbr_a', 'sa', 'alice', ${`c-${id}`}, '*', ${priority}, 'broadcast', ${`n-${id}`}, ${`x-${id}`}, ${created})`;
      }
      // queued in the order m3, m1 (its own envelope on the recipient row), m2; one for another session, one delivered
      for (const [id, session, status, nonce] of [
        ["m3", "s1", "queued", null],
        ["m1", "s1", "queued", "own-n"],
        ["m2", "s1", "queued", null],
        ["m2", "s2", "queued", null],
        ["m1", "s2", "delivered", null],
      ] as const) {
        await sql`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at)
          VALUES (${id}, 'mesh_1', ${session}, 'mbr_b', 'bob', ${nonce}, ${nonce && "own-x"}, ${status}, 10, 10000000)`;
      }
      const { store: counted, reads: preparedReads } = countPrepared(store);
      const drain = await new MessageRepo(counted).queuedFor("s1", ["now", "next", "low"], 1_000);
      expect(preparedReads()).toBe(backend === "sqlite" ? 1 : 0);
      expect(drain.map((m) => [m.messageId, m.priority, m.nonce, m.ciphertext])).toEqual([
        ["m3", "low", "n-m3", "x-m3"],
        ["m1", "now", "own-n", "own-x"],
        ["m2", "next", "n-m2", "x-m2"],
      ]);
      expect(await new MessageRepo({ ...store, prepared: undefined }).queuedFor("s1", ["now", "next", "low"], 1_000)).toEqual(drain);
      expect((await new MessageRepo(counted).queuedFor("s1", ["next"], 1_000)).map((m) => m.messageId)).toEqual(["m2"]);
      // a page: the first rows in queue order, on both ways; the count is of every queued row of the session
      expect((await new MessageRepo(counted).queuedFor("s1", ["now", "next", "low"], 1_000, 2)).map((m) => m.messageId)).toEqual(["m3", "m1"]);
      expect((await new MessageRepo({ ...store, prepared: undefined }).queuedFor("s1", ["now", "next", "low"], 1_000, 2)).map((m) => m.messageId)).toEqual([
        "m3",
        "m1",
      ]);
      expect(await new MessageRepo(store).countQueued("s1", 1_000)).toBe(3);
      expect(await new MessageRepo(store).countQueued("s2", 1_000)).toBe(1);
      expect(await new MessageRepo(store).countQueued("s1", 20_000_000)).toBe(0);
    });
  });
});
