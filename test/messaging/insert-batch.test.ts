import { describe, expect, test } from "bun:test";
import { meshesMigration } from "../../src/meshes/schema.ts";
import { type InsertJob, MessageRepo, type Quota } from "../../src/messaging/repo.ts";
import { inboxIndexMigration, messageQuotaMigration, messagingMigration, queuedIndexMigration } from "../../src/messaging/schema.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import type { Store } from "../../src/store/db.ts";
import { migrate } from "../../src/store/migrate.ts";
import { Writer } from "../../src/store/writer.ts";
import { backends, withStore } from "../helpers/backends.ts";

type Row = Record<string, unknown>;
const MIGRATIONS = [meshesMigration, messagingMigration, messageQuotaMigration, inboxIndexMigration, queuedIndexMigration];

// Messages sent together share one transaction and are stored by a handful of statements
// (`insertBatch`): what each sender gets must be exactly what sending them one by one would give.
describe.each(backends())("messages stored in one batch on %s", (backend) => {
  const withRepo = async (name: string, body: (repo: MessageRepo, store: Store) => Promise<void>) => {
    await withStore(backend, `messaging/insert-batch ${name}`, async (store) => {
      await migrate(store, MIGRATIONS);
      await store.sql`INSERT INTO mesh (id, slug, owner_pubkey, created_at) VALUES ('mesh_1', 'm', 'k', 1), ('mesh_2', 'n', 'k', 1)`;
      for (const [id, mesh] of [
        ["mbr_a", "mesh_1"],
        ["mbr_b", "mesh_1"],
        ["mbr_c", "mesh_2"],
      ]) {
        await store.sql`INSERT INTO member (id, mesh_id, pubkey, display_name, role, joined_at) VALUES (${id}, ${mesh}, ${id}, ${id}, 'member', 1)`;
      }
      await body(new MessageRepo(store), store);
    });
  };
  let n = 0;
  const job = (sender: string, mesh: string, quota: Quota, opts: { clientId?: string; bytes?: number; to?: string[] } = {}): InsertJob => {
    const id = `msg_${++n}`;
    return {
      message: {
        id,
        meshId: mesh,
        senderMemberId: sender,
        senderSessionPubkey: `s_${sender}`,
        senderName: sender,
        clientId: opts.clientId ?? id,
        targetSpec: "peers",
        priority: "now",
        kind: "direct",
        nonce: null,
        ciphertext: null,
        createdAt: 1_000 + n,
      },
      recipients: (opts.to ?? ["r1"]).map((s) => ({ sessionPubkey: s, memberId: "mbr_r", name: s, nonce: "nn", ciphertext: "x".repeat(opts.bytes ?? 10) })),
      ttlMs: 60_000,
      quota,
    };
  };
  const settle = (p: Promise<boolean>) =>
    p.then(
      (stored) => (stored ? "stored" : "duplicate"),
      (err) => (err instanceof WireError ? `${err.code}: ${err.message.startsWith("you have") ? "member" : "mesh"}` : `threw ${err}`),
    );
  const usage = async (store: Store) =>
    ((await store.sql`SELECT mesh_id, member_id, messages, bytes FROM message_usage ORDER BY mesh_id, member_id`) as Row[]).map(
      (r) => `${r.mesh_id}/${r.member_id || "*"}: ${Number(r.messages)} msgs ${Number(r.bytes)} B`,
    );
  const big = { messages: 1_000, bytes: 1_000_000 };

  test("a sender's quota takes the first messages of a batch that fit, in order, and refuses the rest", async () => {
    await withRepo("member quota", async (repo, store) => {
      const quota = { member: { messages: 3, bytes: 1_000_000 }, mesh: big };
      const jobs = [job("mbr_a", "mesh_1", quota), job("mbr_b", "mesh_1", quota), ...Array.from({ length: 4 }, () => job("mbr_a", "mesh_1", quota))];
      expect(await Promise.all(jobs.map((j) => settle(repo.insert(j))))).toEqual([
        "stored",
        "stored",
        "stored",
        "stored",
        "quota_exceeded: member",
        "quota_exceeded: member",
      ]);
      expect(await usage(store)).toEqual(["mesh_1/*: 4 msgs 40 B", "mesh_1/mbr_a: 3 msgs 30 B", "mesh_1/mbr_b: 1 msgs 10 B"]);
      // refused messages leave no row behind; the stored ones are queued in the order they were sent
      const rows = (await store.sql`SELECT r.message_id FROM message_recipient r ORDER BY r.seq`) as Row[];
      expect(rows.map((r) => r.message_id)).toEqual(jobs.slice(0, 4).map((j) => j.message.id));
      expect(Number((await store.sql`SELECT count(*) AS n FROM message`)[0].n)).toBe(4);
      // a quota that does not take the batch whole: the general path, message by message
      if (backend === "sqlite") expect(store.writer.counts.general).toBeGreaterThan(0);
      // the next batch starts from the stored usage: mbr_a is full, mbr_b is not
      expect(await Promise.all([settle(repo.insert(job("mbr_a", "mesh_1", quota))), settle(repo.insert(job("mbr_b", "mesh_1", quota)))])).toEqual([
        "quota_exceeded: member",
        "stored",
      ]);
    });
  });

  test("a mesh's quota is shared by its senders, by bytes as well as by count; another mesh is not charged", async () => {
    await withRepo("mesh quota", async (repo, store) => {
      const quota = { member: big, mesh: { messages: 1_000, bytes: 100 } };
      const jobs = [
        job("mbr_a", "mesh_1", quota, { bytes: 40 }),
        job("mbr_b", "mesh_1", quota, { bytes: 40 }),
        job("mbr_c", "mesh_2", quota, { bytes: 90 }),
        job("mbr_a", "mesh_1", quota, { bytes: 40 }),
        job("mbr_b", "mesh_1", quota, { bytes: 20 }),
        job("mbr_a", "mesh_1", quota, { bytes: 500 }),
      ];
      expect(await Promise.all(jobs.map((j) => settle(repo.insert(j))))).toEqual([
        "stored",
        "stored",
        "stored",
        "quota_exceeded: mesh",
        "stored",
        "quota_exceeded: mesh", // larger than the mesh's whole quota: refused before anything is written
      ]);
      expect(await usage(store)).toEqual([
        "mesh_1/*: 3 msgs 100 B",
        "mesh_1/mbr_a: 1 msgs 40 B",
        "mesh_1/mbr_b: 2 msgs 60 B",
        "mesh_2/*: 1 msgs 90 B",
        "mesh_2/mbr_c: 1 msgs 90 B",
      ]);
    });
  });

  test("a client id repeated in one batch is stored once; a repeat of a refused one is tried again", async () => {
    await withRepo("client ids", async (repo, store) => {
      const quota = { member: big, mesh: big };
      const twice = await Promise.all([
        settle(repo.insert(job("mbr_a", "mesh_1", quota, { clientId: "c1" }))),
        settle(repo.insert(job("mbr_a", "mesh_1", quota, { clientId: "c1" }))),
        settle(repo.insert(job("mbr_b", "mesh_1", quota, { clientId: "c1" }))), // another sender's c1 is its own
      ]);
      expect(twice).toEqual(["stored", "duplicate", "stored"]);
      expect(await settle(repo.insert(job("mbr_a", "mesh_1", quota, { clientId: "c1" })))).toBe("duplicate");

      // the first c2 is too large for what is left of the mesh; its repeat, small enough, is stored
      const tight = { member: big, mesh: { messages: 1_000, bytes: 40 } }; // 20 B stored so far
      const retried = await Promise.all([
        settle(repo.insert(job("mbr_a", "mesh_1", tight, { clientId: "c2", bytes: 25 }))),
        settle(repo.insert(job("mbr_a", "mesh_1", tight, { clientId: "c2", bytes: 5 }))),
      ]);
      expect(retried).toEqual(["quota_exceeded: mesh", "stored"]);
      const [c2] = (await store.sql`SELECT bytes FROM message WHERE client_id = 'c2'`) as Row[];
      expect(Number(c2?.bytes)).toBe(5);
      expect(await usage(store)).toEqual(["mesh_1/*: 3 msgs 25 B", "mesh_1/mbr_a: 2 msgs 15 B", "mesh_1/mbr_b: 1 msgs 10 B"]);
      // recipient rows only for what was stored: a repeat left none, the refused c2 took its own with it,
      // the retried one has its own
      const rows = (await store.sql`SELECT m.client_id, m.sender_member_id, r.session_pubkey, r.ciphertext FROM message_recipient r
        JOIN message m ON m.id = r.message_id ORDER BY r.seq`) as Row[];
      expect(rows.map((r) => `${r.sender_member_id} ${r.client_id} → ${r.session_pubkey} (${String(r.ciphertext).length} B)`)).toEqual([
        "mbr_a c1 → r1 (10 B)",
        "mbr_b c1 → r1 (10 B)",
        "mbr_a c2 → r1 (5 B)",
      ]);
      expect(Number((await store.sql`SELECT count(*) AS n FROM message_recipient`)[0].n)).toBe(3);
    });
  });

  test("when the store fails, every insert is refused, including those queued after the failure", async () => {
    await withRepo("store failure", async (repo, store) => {
      const quota = { member: big, mesh: big };
      await store.close();
      // the first fails before its transaction runs its job; the second must not wait on that dead batch
      const first = await settle(repo.insert(job("mbr_a", "mesh_1", quota)));
      const second = await settle(repo.insert(job("mbr_a", "mesh_1", quota)));
      expect(first).toStartWith("threw");
      expect(second).toStartWith("threw");
    });
  }, 10_000);

  test("a batch's recipient rows keep each message's recipients in order, with its own expiry", async () => {
    await withRepo("recipients", async (repo, store) => {
      const quota = { member: big, mesh: big };
      const jobs = [job("mbr_a", "mesh_1", quota, { to: ["r1", "r2", "r3"] }), job("mbr_b", "mesh_1", quota, { to: ["r3", "r1"] })];
      expect(await Promise.all(jobs.map((j) => repo.insert(j)))).toEqual([true, true]);
      const rows = (await store.sql`SELECT message_id, session_pubkey, status, queued_at, expires_at FROM message_recipient ORDER BY seq`) as Row[];
      expect(rows.map((r) => `${r.message_id}>${r.session_pubkey} ${r.status} ${Number(r.expires_at) - Number(r.queued_at)}`)).toEqual([
        `${jobs[0]?.message.id}>r1 queued 60000`,
        `${jobs[0]?.message.id}>r2 queued 60000`,
        `${jobs[0]?.message.id}>r3 queued 60000`,
        `${jobs[1]?.message.id}>r3 queued 60000`,
        `${jobs[1]?.message.id}>r1 queued 60000`,
      ]);
      const queues = await repo.queues(["r1", "r3"], ["now"], 2_000);
      expect(queues.get("r1")?.messages.map((m) => m.messageId)).toEqual(jobs.map((j) => j.message.id));
      // the common case: on SQLite, stored by the writer's fast path (its statements kept prepared)
      if (backend === "sqlite") expect(store.writer.counts).toEqual({ fast: 1, general: 0 });
    });
  });

  test("a broadcast's rows (a statement of their own) keep the batch's order and every field, between direct messages", async () => {
    await withRepo("wide", async (repo, store) => {
      const quota = { member: big, mesh: big };
      const many = Array.from({ length: 40 }, (_, i) => `w${String(i).padStart(2, "0")}`);
      const before = job("mbr_a", "mesh_1", quota, { to: ["w03", "r9"] });
      const wide = job("mbr_b", "mesh_1", quota, { to: many });
      for (const [i, r] of wide.recipients.entries()) {
        r.name = `peer ${i}`;
        r.memberId = i % 2 ? "mbr_x" : "mbr_y";
        r.nonce = i % 3 ? `n${i}` : null;
        r.ciphertext = i % 3 ? `c${i}` : null;
      }
      const after = job("mbr_a", "mesh_1", quota, { to: ["w03"] });
      expect(await Promise.all([before, wide, after].map((j) => repo.insert(j)))).toEqual([true, true, true]);
      const rows = (await store.sql`SELECT message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at
        FROM message_recipient WHERE message_id = ${wide.message.id} ORDER BY seq`) as Row[];
      expect(rows.map((r) => [r.session_pubkey, r.member_id, r.name, r.nonce, r.ciphertext])).toEqual(
        wide.recipients.map((r) => [r.sessionPubkey, r.memberId, r.name, r.nonce, r.ciphertext]),
      );
      for (const r of rows) {
        expect([r.mesh_id, r.status, Number(r.queued_at), Number(r.expires_at)]).toEqual([
          "mesh_1",
          "queued",
          wide.message.createdAt,
          wide.message.createdAt + 60_000,
        ]);
      }
      // one session's queue is in the order the batch stored its messages
      const queue = (await repo.queues(["w03"], ["now"], 2_000)).get("w03");
      expect(queue?.messages.map((m) => m.messageId)).toEqual([before.message.id, wide.message.id, after.message.id]);
      // the broadcast and the direct messages around it went the fast path; the repeat below goes the general one
      if (backend === "sqlite") expect(store.writer.counts).toEqual({ fast: 1, general: 0 });

      // a broadcast sent again with its client id, in one batch with a new one: the repeat stores no rows
      const again = job("mbr_b", "mesh_1", quota, { to: many, clientId: wide.message.clientId });
      const next = job("mbr_b", "mesh_1", quota, { to: many });
      expect(await Promise.all([again, next].map((j) => repo.insert(j)))).toEqual([false, true]);
      if (backend === "sqlite") expect(store.writer.counts).toEqual({ fast: 1, general: 1 });
      const counts = (await store.sql`SELECT message_id, count(*) AS n FROM message_recipient GROUP BY message_id ORDER BY message_id`) as Row[];
      expect(counts.map((r) => [r.message_id, Number(r.n)])).toEqual([
        [before.message.id, 2],
        [wide.message.id, 40],
        [after.message.id, 1],
        [next.message.id, 40],
      ]);
    });
  });

  test("a message committed but not yet on disk is neither acknowledged, nor pushed by a queue read, nor found as a duplicate", async () => {
    await withRepo("durable", async (_repo, store) => {
      const releases: (() => void)[] = [];
      // the store's writer with a sync that waits to be let go: commit visible, durability pending
      const writer = new Writer((body) => store.sql.begin((tx) => body(tx)), {
        sync: () => new Promise<void>((resolve) => releases.push(resolve)),
      });
      const repo = new MessageRepo({ ...store, writer });
      const settled: string[] = [];
      const j = job("mbr_a", "mesh_1", { member: big, mesh: big });
      const stored = repo.insert(j).then(() => settled.push("ack"));
      while (releases.length === 0) await new Promise((r) => setImmediate(r));
      expect(Number(((await store.sql`SELECT count(*) AS c FROM message`) as Row[])[0]?.c)).toBe(1);
      const read = repo.queuedFor("r1", ["now"], 2_000).then((q) => settled.push(`read ${q.length}`));
      const dup = repo.findByClientId("mesh_1", "mbr_a", j.message.clientId).then((m) => settled.push(`found ${m?.id === j.message.id}`));
      // the same reads through the store's own writer (nothing held) find it: the held ones had time to
      const control = new MessageRepo(store);
      expect(await control.queuedFor("r1", ["now"], 2_000)).toHaveLength(1);
      expect((await control.findByClientId("mesh_1", "mbr_a", j.message.clientId))?.id).toBe(j.message.id);
      expect(settled).toEqual([]);
      releases[0]?.();
      await Promise.all([stored, read, dup]);
      expect(settled.sort()).toEqual(["ack", "found true", "read 1"]);
    });
  });
});
