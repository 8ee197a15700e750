import type { SQL } from "bun";
import type { Store } from "../store/db.ts";
import type { Dialect } from "../store/migration.ts";
import { inList, jsonRows, num, numOrNull, rowsJson, sqliteJsonRows } from "../store/db.ts";
import type { z } from "zod";
import { WireError } from "../protocol/wire-error.ts";
import type { Outcome } from "../store/group-commit.ts";
import { FALLBACK, type FastDb, type FastParam } from "../store/writer.ts";
import type { MessageKind, MessageStatusResultFrame, Priority, PushBody } from "./frames.ts";

export interface NewMessage {
  id: string;
  meshId: string;
  senderMemberId: string;
  senderSessionPubkey: string;
  senderName: string;
  clientId: string;
  targetSpec: string;
  priority: Priority;
  kind: MessageKind;
  nonce: string | null;
  ciphertext: string | null;
  createdAt: number;
}

export interface NewRecipient {
  sessionPubkey: string;
  memberId: string;
  name: string;
  nonce: string | null;
  ciphertext: string | null;
}

/** One recipient's line of message_status, as the wire frame defines it. */
export type RecipientStatus = z.infer<typeof MessageStatusResultFrame>["recipients"][number];

type Row = Record<string, unknown>;

const toPush = (r: Row): PushBody => ({
  messageId: String(r.message_id),
  meshId: String(r.mesh_id),
  senderName: String(r.sender_name),
  senderMemberName: String(r.sender_member_name),
  senderPubkey: String(r.sender_session_pubkey),
  senderMemberId: String(r.sender_member_id),
  priority: r.priority as Priority,
  kind: r.kind as MessageKind,
  to: String(r.target_spec),
  nonce: String(r.nonce),
  ciphertext: String(r.ciphertext),
  createdAt: num(r.created_at),
  lowPending: 0,
});

/** A session's queue as delivery reads it (`MessageRepo.queues`). */
export interface Queue {
  /** what it may be pushed now, in queue order */
  messages: PushBody[];
  /** the ids of its queued `low` messages */
  low: string[];
}

/** Most a sender may keep stored (ciphertext not yet deleted), as a member and as a whole mesh. */
export interface Quota {
  member: { messages: number; bytes: number };
  mesh: { messages: number; bytes: number };
}

type Limit = Quota["member"];
type Refusal = "member" | "mesh";

const overQuota = (who: string, limit: Limit) =>
  new WireError(
    "quota_exceeded",
    `${who} as many undelivered messages stored on the broker as it allows (${limit.messages} messages, ${limit.bytes} bytes); they free up as recipients read them or they expire`,
    507,
  );
const refusal = (over: Refusal, quota: Quota): Outcome<boolean> => ({
  ok: false,
  error: over === "member" ? overQuota("you have", quota.member) : overQuota("this mesh has", quota.mesh),
});
const fits = (l: Limit, messages: number, bytes: number) => messages <= l.messages && bytes <= l.bytes;
const sameQuota = (a: Quota, b: Quota) =>
  a.member.messages === b.member.messages && a.member.bytes === b.member.bytes && a.mesh.messages === b.mesh.messages && a.mesh.bytes === b.mesh.bytes;

/** One message to store: the group commit writes many in one transaction. */
export interface InsertJob {
  message: NewMessage;
  recipients: NewRecipient[];
  ttlMs: number;
  quota: Quota;
}

/** A job that got its message row, with what it weighs. */
interface Stored {
  index: number;
  job: InsertJob;
  message: NewMessage;
  bytes: number;
  expiresAt: number;
}

/** A usage row's key in the maps below; member id '' is the mesh's own row. */
const usageKey = (meshId: string, memberId: string) => `${meshId}\u0000${memberId}`;

/** A usage row's share of a batch: `member_id` '' is the mesh's own row. */
interface Usage {
  meshId: string;
  memberId: string;
  messages: number;
  bytes: number;
}

const MESSAGE_TABLE =
  "message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at, bytes, expires_at)";
const MESSAGE_FIELDS = [
  "id",
  "meshId",
  "senderMemberId",
  "senderSessionPubkey",
  "senderName",
  "clientId",
  "targetSpec",
  "priority",
  "kind",
  "nonce",
  "ciphertext",
  ["createdAt", "bigint"],
  ["bytes", "bigint"],
  ["expiresAt", "bigint"],
] as const;
const RECIPIENT_TABLE = "message_recipient (message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at)";
const RECIPIENT_FIELDS = [
  "id",
  "meshId",
  "sessionPubkey",
  "memberId",
  "name",
  "nonce",
  "ciphertext",
  "status",
  ["at", "bigint"],
  ["expiresAt", "bigint"],
] as const;

const USAGE_FIELDS = ["meshId", "memberId", ["messages", "bigint"], ["bytes", "bigint"]] as const;

/** What a push carries besides its payload, and the joins that find it: both queue reads' (`toPush`). */
const PUSH_COLUMNS = `r.message_id, m.priority, m.mesh_id, m.sender_name, sm.display_name AS sender_member_name,
         m.sender_session_pubkey, m.sender_member_id, m.kind, m.target_spec, m.created_at
  FROM message_recipient r JOIN message m ON m.id = r.message_id JOIN member sm ON sm.id = m.sender_member_id`;

/** The queue read's columns and joins, before its WHERE (`queueRead`); a `low` message's payload stays behind. */
const QUEUE_COLUMNS = `SELECT r.seq, r.session_pubkey,
         CASE WHEN m.priority = 'low' THEN NULL ELSE COALESCE(r.nonce, m.nonce) END AS nonce,
         CASE WHEN m.priority = 'low' THEN NULL ELSE COALESCE(r.ciphertext, m.ciphertext) END AS ciphertext, ${PUSH_COLUMNS}`;

/** A drain's columns and joins (`MessageRepo.queuedFor`): every priority's payload, `low` ones too. */
const DRAIN_COLUMNS = `SELECT COALESCE(r.nonce, m.nonce) AS nonce, COALESCE(r.ciphertext, m.ciphertext) AS ciphertext, ${PUSH_COLUMNS}`;

/**
 * SQLite's hot statements, as text: kept prepared on the writer's fast connection (`store/fast-writer.ts`),
 * compiled per use on the general path; Postgres spells the same statements as templates below.
 */
const SQLITE = {
  messages: `INSERT INTO ${MESSAGE_TABLE} ${sqliteJsonRows(MESSAGE_FIELDS.length)} ON CONFLICT (mesh_id, sender_member_id, client_id) DO NOTHING RETURNING id`,
  // its `?` after the rows: the mesh's message limit, the member's, the mesh's byte limit, the member's
  usage: `INSERT INTO message_usage (mesh_id, member_id, messages, bytes) ${sqliteJsonRows(USAGE_FIELDS.length)}
    ON CONFLICT (mesh_id, member_id) DO UPDATE SET messages = message_usage.messages + excluded.messages, bytes = message_usage.bytes + excluded.bytes
    WHERE message_usage.messages + excluded.messages <= CASE WHEN message_usage.member_id = '' THEN ? ELSE ? END
      AND message_usage.bytes + excluded.bytes <= CASE WHEN message_usage.member_id = '' THEN ? ELSE ? END
    RETURNING mesh_id, member_id`,
  recipients: `INSERT INTO ${RECIPIENT_TABLE} ${sqliteJsonRows(RECIPIENT_FIELDS.length)}`,
  // a broadcast's: message id, mesh id, then each row's five fields, then its queued and expiry times
  wideRecipients: `INSERT INTO ${RECIPIENT_TABLE}
    SELECT ?, ?, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, 'queued', ?, ? FROM jsonb_each(?) j ORDER BY j.key`,
  // its `?`: the sessions and the priorities as JSON arrays, then the time (`queueRead`)
  queue: `${QUEUE_COLUMNS}
    WHERE r.session_pubkey IN (SELECT value FROM json_each(?)) AND r.status = 'queued' AND r.expires_at > ?
      AND m.priority IN (SELECT value FROM json_each(?))`,
  // its `?`: the session, the time, the priorities as a JSON array, the most rows to read (-1: all)
  drain: `${DRAIN_COLUMNS}
    WHERE r.session_pubkey = ? AND r.status = 'queued' AND r.expires_at > ? AND m.priority IN (SELECT value FROM json_each(?))
    ORDER BY r.seq LIMIT ?`,
  receipts: `UPDATE message_recipient SET status = 'delivered', delivered_at = ?
    WHERE (message_id, session_pubkey) IN (SELECT j.value ->> 0, j.value ->> 1 FROM jsonb_each(?) j) AND status = 'queued'`,
};

const usageLimits = (quota: Quota): FastParam[] => [quota.mesh.messages, quota.member.messages, quota.mesh.bytes, quota.member.bytes];

/**
 * Adds usage to message_usage rows in one upsert, each row only while within its own limit (a new row
 * starts at its delta, so the caller checks first that the delta fits at all); says which rows took it.
 */
async function charge(tx: SQL, dialect: Dialect, rows: Usage[], quota: Quota): Promise<Set<string>> {
  const took =
    dialect === "sqlite"
      ? await tx.unsafe(SQLITE.usage, [rowsJson(rows, USAGE_FIELDS), ...usageLimits(quota)])
      : await tx`INSERT INTO message_usage (mesh_id, member_id, messages, bytes) ${jsonRows(tx, dialect, rows, USAGE_FIELDS)}
    ON CONFLICT (mesh_id, member_id) DO UPDATE SET messages = message_usage.messages + excluded.messages, bytes = message_usage.bytes + excluded.bytes
    WHERE message_usage.messages + excluded.messages <= CASE WHEN message_usage.member_id = '' THEN ${quota.mesh.messages} ELSE ${quota.member.messages} END
      AND message_usage.bytes + excluded.bytes <= CASE WHEN message_usage.member_id = '' THEN ${quota.mesh.bytes} ELSE ${quota.member.bytes} END
    RETURNING mesh_id, member_id`;
  return new Set(took.map((r: Row) => usageKey(String(r.mesh_id), String(r.member_id))));
}

const refund = (tx: SQL, u: Usage) =>
  tx`UPDATE message_usage SET messages = messages - ${u.messages}, bytes = bytes - ${u.bytes} WHERE mesh_id = ${u.meshId} AND member_id = ${u.memberId}`;

/** One message's charge on its own (member row, then mesh row), as the fallback of `chargeBatch`. */
async function chargeOne(tx: SQL, dialect: Dialect, s: Stored, quota: Quota): Promise<Refusal | null> {
  const member: Usage = { meshId: s.message.meshId, memberId: s.message.senderMemberId, messages: 1, bytes: s.bytes };
  const mesh: Usage = { ...member, memberId: "" };
  const took = await charge(tx, dialect, [member, mesh], quota);
  const tookMember = took.has(usageKey(member.meshId, member.memberId));
  const tookMesh = took.has(usageKey(mesh.meshId, ""));
  if (tookMember && tookMesh) return null;
  // the member's own quota is the one told first
  if (tookMesh) await refund(tx, mesh);
  if (tookMember) await refund(tx, member);
  return tookMember ? "mesh" : "member";
}

/** What a batch's messages add to each usage row (their senders' and their meshes'), in lock order. */
function usageTotals(stored: Stored[]): Usage[] {
  const totals = new Map<string, Usage>();
  const add = (meshId: string, memberId: string, bytes: number) => {
    const k = usageKey(meshId, memberId);
    const u = totals.get(k);
    if (u) {
      u.messages += 1;
      u.bytes += bytes;
    } else totals.set(k, { meshId, memberId, messages: 1, bytes });
  };
  for (const s of stored) {
    add(s.message.meshId, s.message.senderMemberId, s.bytes);
    add(s.message.meshId, "", s.bytes);
  }
  // sorted: concurrent brokers on one Postgres lock the rows they share in one order
  return [...totals.values()].sort((a, b) => (a.meshId === b.meshId ? (a.memberId < b.memberId ? -1 : 1) : a.meshId < b.meshId ? -1 : 1));
}

const limitOf = (u: Usage, quota: Quota) => (u.memberId === "" ? quota.mesh : quota.member);

/**
 * Charges a batch's messages to their senders' and meshes' usage rows: in the usual case one upsert of
 * each row's total. A row whose total would not fit is charged message by message, in batch order, as
 * far as it allows (what its mesh or member row took for those messages given back first), so the
 * batch takes exactly what sequential sends would have. Returns each message's refusal, or null.
 */
async function chargeBatch(tx: SQL, dialect: Dialect, stored: Stored[], quota: Quota): Promise<(Refusal | null)[]> {
  const rows = usageTotals(stored);
  const tried = rows.filter((u) => fits(limitOf(u, quota), u.messages, u.bytes));
  const took = tried.length > 0 ? await charge(tx, dialect, tried, quota) : new Set<string>();
  // Who goes message by message: every sender of a mesh whose row did not take the total, and every
  // sender whose own row did not. What the other row of such a pair took for them is given back first.
  const slowMesh = new Set(rows.filter((u) => u.memberId === "" && !took.has(usageKey(u.meshId, ""))).map((u) => u.meshId));
  const slow = new Set<string>();
  for (const u of rows) {
    if (u.memberId === "") continue;
    const k = usageKey(u.meshId, u.memberId);
    if (slowMesh.has(u.meshId)) {
      slow.add(k);
      if (took.has(k)) await refund(tx, u);
    } else if (!took.has(k)) {
      slow.add(k);
      await refund(tx, { ...u, memberId: "" });
    }
  }
  const verdicts: (Refusal | null)[] = [];
  for (const s of stored) {
    verdicts.push(slow.has(usageKey(s.message.meshId, s.message.senderMemberId)) ? await chargeOne(tx, dialect, s, quota) : null);
  }
  return verdicts;
}

const weigh = (j: InsertJob) => (j.message.ciphertext?.length ?? 0) + j.recipients.reduce((n, r) => n + (r.ciphertext?.length ?? 0), 0);
const storedOf = (job: InsertJob, index: number, bytes: number): Stored => ({
  index,
  job,
  message: job.message,
  bytes,
  expiresAt: job.message.createdAt + job.ttlMs,
});
const messageRows = (stored: Stored[]) => stored.map(({ message: m, bytes, expiresAt }) => ({ ...m, bytes, expiresAt }));

/**
 * Stores a batch of messages inside the group commit's transaction without ever failing it for a reason
 * of one message's own: a repeated client id is answered from the stored message (false), a quota
 * refusal undoes what its message wrote. A handful of statements whatever the batch's size (the
 * messages, the usage, the recipient rows, each as one JSON parameter); only the store failing throws.
 */
async function insertBatch(tx: SQL, dialect: Dialect, jobs: InsertJob[]): Promise<Outcome<boolean>[]> {
  const out: Outcome<boolean>[] = jobs.map(() => ({ ok: true, value: false }));
  // one quota for the whole batch: `MessageRepo.insert` batches only jobs that share it
  const quota = jobs[0]?.quota;
  if (!quota) return out;
  const candidates: Stored[] = [];
  jobs.forEach((j, index) => {
    const bytes = weigh(j);
    // one message that would not fit even an empty quota is refused before anything is written
    if (!fits(quota.member, 1, bytes)) out[index] = refusal("member", quota);
    else if (!fits(quota.mesh, 1, bytes)) out[index] = refusal("mesh", quota);
    else candidates.push(storedOf(j, index, bytes));
  });
  if (candidates.length === 0) return out;

  const messages = messageRows(candidates);
  // A client id stored before (an earlier batch, or earlier in this one) is not stored again: the caller answers with it.
  const inserted =
    dialect === "sqlite"
      ? await tx.unsafe(SQLITE.messages, [rowsJson(messages, MESSAGE_FIELDS)])
      : await tx`INSERT INTO ${tx.unsafe(MESSAGE_TABLE)} ${jsonRows(tx, dialect, messages, MESSAGE_FIELDS)} ON CONFLICT (mesh_id, sender_member_id, client_id) DO NOTHING RETURNING id`;
  const ids = new Set(inserted.map((r: Row) => String(r.id)));
  const stored = candidates.filter((c) => ids.has(c.message.id));

  const verdicts = await chargeBatch(tx, dialect, stored, quota);
  const refused = stored.filter((_, i) => verdicts[i] !== null);
  const accepted = stored.filter((_, i) => verdicts[i] === null);
  stored.forEach((s, i) => {
    const v = verdicts[i];
    out[s.index] = v ? refusal(v, quota) : { ok: true, value: true };
  });
  if (refused.length > 0) {
    await tx`DELETE FROM message WHERE id ${inList(
      tx,
      dialect,
      refused.map((s) => s.message.id),
    )}`;
    // A repeat of a refused message's client id in this batch was turned away for a row that is gone
    // now: it is tried again as sequential sends would have (stored, if it fits).
    const clientKey = (m: NewMessage) => `${usageKey(m.meshId, m.senderMemberId)}\u0000${m.clientId}`;
    const gone = new Set(refused.map((s) => clientKey(s.message)));
    const again = candidates.filter((c) => !ids.has(c.message.id) && gone.has(clientKey(c.message)));
    if (again.length > 0) {
      const retried = await insertBatch(
        tx,
        dialect,
        again.map((c) => c.job),
      );
      again.forEach((c, i) => {
        out[c.index] = retried[i] as Outcome<boolean>;
      });
    }
  }
  if (accepted.length === 0) return out;
  await insertRecipients(tx, dialect, accepted);
  return out;
}

/** From this many recipients a message's rows are a statement of their own (`insertRecipients`). */
const WIDE = 32;

/**
 * The recipient rows of a batch's stored messages, in the batch's order (a session's queue is in the order
 * its messages were stored). One statement whatever the fan-out: the rows travel as one JSON parameter; a
 * multi-row VALUES list would be a statement of thousands of placeholders, compiled again for every
 * message (SQLite: ~5 ms for 100 rows of 10 columns). Consecutive messages of few recipients share one
 * statement; a message of many (a broadcast) gets its own, its columns that are the same for every row
 * bound once: each row then carries five fields rather than ten (999 rows on SQLite: ~6.5 → ~4.7 ms).
 */
function* recipientStatements(stored: Stored[]): Generator<{ few: Stored[] } | { wide: Stored }> {
  let few: Stored[] = [];
  for (const s of stored) {
    if (s.job.recipients.length < WIDE) {
      few.push(s);
      continue;
    }
    if (few.length > 0) yield { few };
    few = [];
    yield { wide: s };
  }
  if (few.length > 0) yield { few };
}

const fewRows = (few: Stored[]) =>
  few.flatMap((s) =>
    s.job.recipients.map((r) => ({ ...r, id: s.message.id, meshId: s.message.meshId, status: "queued", at: s.message.createdAt, expiresAt: s.expiresAt })),
  );
const wideRows = (s: Stored) => JSON.stringify(s.job.recipients.map((r) => [r.sessionPubkey, r.memberId, r.name, r.nonce, r.ciphertext]));

/** SQLite's statements of `recipientStatements`, as text and parameters. */
function* sqliteRecipients(stored: Stored[]): Generator<{ text: string; params: FastParam[] }> {
  for (const st of recipientStatements(stored)) {
    if ("few" in st) yield { text: SQLITE.recipients, params: [rowsJson(fewRows(st.few), RECIPIENT_FIELDS)] };
    else {
      const m = st.wide.message;
      yield { text: SQLITE.wideRecipients, params: [m.id, m.meshId, m.createdAt, st.wide.expiresAt, wideRows(st.wide)] };
    }
  }
}

async function insertRecipients(tx: SQL, dialect: Dialect, stored: Stored[]): Promise<void> {
  if (dialect === "sqlite") {
    for (const { text, params } of sqliteRecipients(stored)) await tx.unsafe(text, params);
    return;
  }
  const columns = tx.unsafe(RECIPIENT_TABLE);
  for (const st of recipientStatements(stored)) {
    if ("few" in st) {
      await tx`INSERT INTO ${columns} ${jsonRows(tx, dialect, fewRows(st.few), RECIPIENT_FIELDS)}`;
      continue;
    }
    const s = st.wide;
    const m = s.message;
    await tx`INSERT INTO ${columns}
      SELECT ${m.id}, ${m.meshId}, e.v ->> 0, e.v ->> 1, e.v ->> 2, e.v ->> 3, e.v ->> 4, 'queued', ${m.createdAt}::bigint, ${s.expiresAt}::bigint
      FROM jsonb_array_elements(${wideRows(s)}::text::jsonb) WITH ORDINALITY AS e(v, i) ORDER BY e.i`;
  }
}

/**
 * `insertBatch`'s common case on the writer's fast connection (SQLite): every message new and within both
 * quotas, which is what a batch is unless a quota is nearly full or a client id repeats. Anything else
 * falls back (the whole batch, rolled back) to `insertBatch`, which sorts it out message by message.
 */
function insertBatchFast(db: FastDb, jobs: InsertJob[]): Outcome<boolean>[] | typeof FALLBACK {
  const quota = jobs[0]?.quota;
  if (!quota) return [];
  const stored = jobs.map((j, index) => storedOf(j, index, weigh(j)));
  const totals = usageTotals(stored);
  if (!totals.every((u) => fits(limitOf(u, quota), u.messages, u.bytes))) return FALLBACK;
  if (db.all(SQLITE.messages, [rowsJson(messageRows(stored), MESSAGE_FIELDS)]).length !== stored.length) return FALLBACK;
  if (db.all(SQLITE.usage, [rowsJson(totals, USAGE_FIELDS), ...usageLimits(quota)]).length !== totals.length) return FALLBACK;
  for (const { text, params } of sqliteRecipients(stored)) db.run(text, params);
  return jobs.map(() => ({ ok: true, value: true }));
}

/** The queue read of a batch of sessions (`MessageRepo.queues`), a statement of its own so tests can read its plan. */
export function queueRead(sql: SQL, dialect: Dialect, sessionPubkeys: readonly string[], priorities: readonly Priority[], now: number) {
  if (dialect === "sqlite") return sql.unsafe(SQLITE.queue, queueParams(sessionPubkeys, priorities, now));
  return sql`${sql.unsafe(QUEUE_COLUMNS)}
    WHERE r.session_pubkey ${inList(sql, dialect, sessionPubkeys)} AND r.status = 'queued' AND r.expires_at > ${now}
      AND m.priority IN ${sql(priorities)}`;
}

const queueParams = (sessionPubkeys: readonly string[], priorities: readonly Priority[], now: number): FastParam[] => [
  JSON.stringify(sessionPubkeys),
  now,
  JSON.stringify(priorities),
];

/** Chunks id lists so IN (...) stays within every dialect's parameter limit. */
function* chunks<T>(items: T[], size = 500): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Most messages one statement stores: a larger burst takes several jobs of the transaction. */
const MAX_INSERT_BATCH = 256;

interface Pending {
  job: InsertJob;
  resolve(stored: boolean): void;
  reject(err: unknown): void;
}

export class MessageRepo {
  /** the inserts waiting for their transaction, written together by its one job */
  private inserts: Pending[] | null = null;

  constructor(private readonly store: Store) {}

  private get sql() {
    return this.store.sql;
  }

  async findByClientId(
    meshId: string,
    senderMemberId: string,
    clientId: string,
  ): Promise<{ id: string; recipients: { name: string; sessionPubkey: string }[] } | null> {
    // what it finds is acknowledged to the sender: only once it is on disk
    await this.store.writer.durable();
    const [m] = await this.sql`SELECT id FROM message WHERE mesh_id = ${meshId} AND sender_member_id = ${senderMemberId} AND client_id = ${clientId}`;
    if (!m) return null;
    const rs = await this.sql`SELECT name, session_pubkey FROM message_recipient WHERE message_id = ${m.id} ORDER BY seq`;
    return { id: String(m.id), recipients: rs.map((r: Row) => ({ name: String(r.name), sessionPubkey: String(r.session_pubkey) })) };
  }

  /**
   * Stores a message and its recipient rows in the store's shared transaction (its group commit): true
   * when stored, false when the same client id was stored first (the caller answers with that message).
   */
  insert(job: InsertJob): Promise<boolean> {
    let batch = this.inserts;
    // a batch is charged against one quota: a job with another (the broker has one, its limits) starts a batch of its own
    const first = batch?.[0];
    if (!batch || batch.length >= MAX_INSERT_BATCH || (first && !sameQuota(first.job.quota, job.quota))) {
      const jobs: Pending[] = [];
      batch = this.inserts = jobs;
      // One job of the shared transaction for every insert queued until it starts: later ones go to the next.
      // whichever form runs first closes the batch: later inserts start another
      const close = () => {
        if (this.inserts === jobs) this.inserts = null;
        return jobs.map((p) => p.job);
      };
      this.store.writer
        .write(
          async (tx) => ({ ok: true, value: await insertBatch(tx, this.store.dialect, close()) }),
          (db) => {
            const out = insertBatchFast(db, close());
            return out === FALLBACK ? FALLBACK : { ok: true, value: out };
          },
        )
        .then(
          (outcomes) =>
            jobs.forEach((p, i) => {
              const o = outcomes[i];
              if (!o) p.reject(new Error("the message batch returned no outcome"));
              else if (o.ok) p.resolve(o.value);
              else p.reject(o.error);
            }),
          (err) => {
            // a transaction that failed before it ran this job leaves the list open: later inserts start another
            if (this.inserts === jobs) this.inserts = null;
            for (const p of jobs) p.reject(err);
          },
        );
    }
    const pending = batch;
    return new Promise<boolean>((resolve, reject) => pending.push({ job, resolve, reject }));
  }

  /** What is queued for one session in queue order (the first `limit`, else all), payloads included (a drain: `low` ones too). */
  async queuedFor(sessionPubkey: string, priorities: Priority[], now: number, limit?: number): Promise<PushBody[]> {
    if (priorities.length === 0) return [];
    // what a queue read finds is pushed: only once it is on disk
    await this.store.writer.durable();
    const sql = this.store.planned;
    const params = [sessionPubkey, now, JSON.stringify(priorities), limit ?? -1];
    const rows =
      this.store.dialect === "sqlite"
        ? (this.store.prepared?.(SQLITE.drain, params) ?? (await sql.unsafe(SQLITE.drain, params)))
        : await sql`${sql.unsafe(DRAIN_COLUMNS)}
      WHERE r.session_pubkey = ${sessionPubkey} AND r.status = 'queued' AND r.expires_at > ${now}
        AND m.priority IN ${sql(priorities)}
      ORDER BY r.seq LIMIT ${limit ?? null}`;
    return (rows as Row[]).map(toPush);
  }

  /** How many messages, of any priority, are queued for one session (a drain's "more"). */
  async countQueued(sessionPubkey: string, now: number): Promise<number> {
    const [row] = await this.store.planned`SELECT count(*) AS n FROM message_recipient
      WHERE session_pubkey = ${sessionPubkey} AND status = 'queued' AND expires_at > ${now}`;
    return num((row as Row | undefined)?.n ?? 0);
  }

  /**
   * Receipts of many sessions at once, in the store's shared transaction (a broadcast's worth costs one
   * commit, shared with the messages stored meanwhile), in one statement whatever their number: the
   * (message, session) pairs travel as one JSON parameter and each is found through the unique key. One
   * statement per session or per message was the most frequent statement under load (50 senders: one a
   * receipt). On Postgres the rows are found by (message, session) alone, before the status is looked at:
   * offered `status = 'queued'` with statistics that lag a burst of new rows (before autovacuum's next
   * ANALYZE), the planner scanned every queued row through an expiry index instead, 300–440 ms for a
   * broadcast's receipts (a bench run).
   */
  markDelivered(receipts: { sessionPubkey: string; ids: string[] }[], now: number): Promise<void> {
    const pairs = JSON.stringify(receipts.flatMap(({ sessionPubkey, ids }) => ids.map((id) => [id, sessionPubkey])));
    const dialect = this.store.dialect;
    return this.store.writer.write(
      async (tx) => {
        if (dialect === "sqlite") {
          await tx.unsafe(SQLITE.receipts, [now, pairs]);
        } else {
          // Each pair is looked up on its own (LATERAL … LIMIT 1 keeps the planner from turning the pairs into
          // a hash join over the whole table, which it did: 35–90 ms a broadcast), the rows then by primary
          // key. `status || ''` is not the queued indexes' predicate: offered `status = 'queued'`, a plan
          // cached while the table was small walked the whole expiring index instead (~40 ms a receipt with
          // 100,000 queued, in a bench run).
          await tx`WITH hit AS MATERIALIZED (
            SELECT h.seq FROM jsonb_array_elements(${pairs}::text::jsonb) AS j(v)
            CROSS JOIN LATERAL (SELECT r.seq FROM message_recipient r WHERE r.message_id = j.v ->> 0 AND r.session_pubkey = j.v ->> 1 LIMIT 1) h)
          UPDATE message_recipient SET status = 'delivered', delivered_at = ${now} WHERE seq = ANY(ARRAY(SELECT seq FROM hit)) AND status || '' = 'queued'`;
        }
        return { ok: true, value: undefined };
      },
      (db) => {
        db.run(SQLITE.receipts, [now, pairs]);
        return { ok: true, value: undefined };
      },
    );
  }

  async markSurfaced(sessionPubkey: string, ids: string[], now: number): Promise<void> {
    for (const batch of chunks(ids)) {
      await this.sql`UPDATE message_recipient SET status = 'surfaced', surfaced_at = ${now}, delivered_at = COALESCE(delivered_at, ${now})
        WHERE session_pubkey = ${sessionPubkey} AND status IN ('queued', 'delivered') AND message_id ${inList(this.sql, this.store.dialect, batch)}`;
    }
  }

  /**
   * The queues of many sessions (one statement per 500), as delivery needs them: the messages each may be
   * pushed (`pushable`), in queue order, and the ids of its `low` ones, read without their payload (they
   * wait for check_messages; only their number goes out, as `lowPending`).
   */
  async queues(sessionPubkeys: string[], pushable: Priority[], now: number): Promise<Map<string, Queue>> {
    const out = new Map<string, Queue>(sessionPubkeys.map((k) => [k, { messages: [], low: [] }]));
    const priorities = [...new Set<Priority>([...pushable, "low"])];
    await this.store.writer.durable();
    const sql = this.store.planned;
    for (const batch of chunks(sessionPubkeys, 500)) {
      const rows =
        this.store.prepared?.(SQLITE.queue, queueParams(batch, priorities, now)) ?? (await queueRead(sql, this.store.dialect, batch, priorities, now));
      // Queue order is sorted here, not by ORDER BY: for a list of sessions SQLite would rather walk the
      // whole table in seq order than sort, a scan of every row ever queued (connects 1,200 → 430/s).
      for (const r of (rows as Row[]).sort((a, b) => num(a.seq) - num(b.seq))) {
        const q = out.get(String(r.session_pubkey));
        if (!q) continue;
        if (r.priority === "low") q.low.push(String(r.message_id));
        else q.messages.push(toPush(r));
      }
    }
    return out;
  }

  /**
   * Recipient rows still waiting to be delivered, across every mesh (an operator's metric): a count of
   * every queued row at each scrape, on SQLite off the event loop (400,000 rows take ~7 ms).
   */
  async queueDepth(now: number): Promise<number> {
    const [r] = this.store.slowRead
      ? await this.store.slowRead("SELECT count(*) AS n FROM message_recipient WHERE status = 'queued' AND expires_at > ?", [now])
      : await this.sql`SELECT count(*) AS n FROM message_recipient WHERE status = 'queued' AND expires_at > ${now}`;
    return num(r?.n);
  }

  /** Marks queued rows past their TTL as expired; returns how many. */
  async expire(now: number): Promise<number> {
    const r = await this.sql`UPDATE message_recipient SET status = 'expired', expired_at = ${now} WHERE status = 'queued' AND expires_at <= ${now}`;
    return r.count;
  }

  /** Per-recipient status, only for the sender's own member within its mesh. */
  async statusFor(meshId: string, senderMemberId: string, messageId: string): Promise<RecipientStatus[] | null> {
    const [m] = await this.sql`SELECT id FROM message WHERE id = ${messageId} AND mesh_id = ${meshId} AND sender_member_id = ${senderMemberId}`;
    if (!m) return null;
    const rows = await this.sql`SELECT name, session_pubkey, status, queued_at, delivered_at, surfaced_at, expired_at
      FROM message_recipient WHERE message_id = ${messageId} ORDER BY seq`;
    return rows.map((r: Row) => ({
      name: String(r.name),
      sessionPubkey: String(r.session_pubkey),
      status: r.status as RecipientStatus["status"],
      queuedAt: num(r.queued_at),
      deliveredAt: numOrNull(r.delivered_at),
      surfacedAt: numOrNull(r.surfaced_at),
      expiredAt: numOrNull(r.expired_at),
    }));
  }
}
