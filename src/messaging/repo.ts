import type { SQL } from "bun";
import type { Store } from "../store/db.ts";
import { num, numOrNull } from "../store/db.ts";
import type { z } from "zod";
import { WireError } from "../protocol/wire-error.ts";
import type { Outcome } from "../store/group-commit.ts";
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
  nonce: String(r.r_nonce ?? r.m_nonce),
  ciphertext: String(r.r_ciphertext ?? r.m_ciphertext),
  createdAt: num(r.created_at),
  lowPending: num(r.low_pending),
});

/** Most a sender may keep stored (ciphertext not yet deleted), as a member and as a whole mesh. */
export interface Quota {
  member: { messages: number; bytes: number };
  mesh: { messages: number; bytes: number };
}

/**
 * Adds one message of `bytes` to a usage row unless that would pass `limit`; false when it would. One
 * upsert: a new row starts at this message, an existing one grows only while within the limit.
 */
async function charge(tx: SQL, meshId: string, memberId: string, bytes: number, limit: { messages: number; bytes: number }): Promise<boolean> {
  if (limit.messages < 1 || bytes > limit.bytes) return false;
  const r = await tx`INSERT INTO message_usage (mesh_id, member_id, messages, bytes) VALUES (${meshId}, ${memberId}, 1, ${bytes})
    ON CONFLICT (mesh_id, member_id) DO UPDATE SET messages = message_usage.messages + 1, bytes = message_usage.bytes + ${bytes}
    WHERE message_usage.messages + 1 <= ${limit.messages} AND message_usage.bytes + ${bytes} <= ${limit.bytes}
    RETURNING messages`;
  return r.length > 0;
}

const overQuota = (who: string, limit: { messages: number; bytes: number }) =>
  new WireError(
    "quota_exceeded",
    `${who} as many undelivered messages stored on the broker as it allows (${limit.messages} messages, ${limit.bytes} bytes); they free up as recipients read them or they expire`,
    507,
  );

/** One message to store: the group commit writes many in one transaction. */
export interface InsertJob {
  message: NewMessage;
  recipients: NewRecipient[];
  ttlMs: number;
  quota: Quota;
}

/**
 * Stores one message inside the batch's transaction without ever failing the transaction for a reason
 * of its own: a repeated client id is answered from the stored message, a quota refusal undoes what
 * this message wrote. Only the store failing aborts the batch.
 */
async function insertOne(tx: SQL, { message: m, recipients, ttlMs, quota }: InsertJob): Promise<Outcome<boolean>> {
  const expiresAt = m.createdAt + ttlMs;
  const bytes = (m.ciphertext?.length ?? 0) + recipients.reduce((n, r) => n + (r.ciphertext?.length ?? 0), 0);
  const inserted =
    await tx`INSERT INTO message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at, bytes, expires_at)
    VALUES (${m.id}, ${m.meshId}, ${m.senderMemberId}, ${m.senderSessionPubkey}, ${m.senderName}, ${m.clientId}, ${m.targetSpec}, ${m.priority}, ${m.kind}, ${m.nonce}, ${m.ciphertext}, ${m.createdAt}, ${bytes}, ${expiresAt})
    ON CONFLICT (mesh_id, sender_member_id, client_id) DO NOTHING RETURNING id`;
  // the same client id won a race (an earlier batch, or earlier in this one): the caller answers with it
  if (inserted.length === 0) return { ok: true, value: false };
  const refuse = async (error: WireError, refundMember: boolean): Promise<Outcome<boolean>> => {
    if (refundMember) {
      await tx`UPDATE message_usage SET messages = messages - 1, bytes = bytes - ${bytes} WHERE mesh_id = ${m.meshId} AND member_id = ${m.senderMemberId}`;
    }
    await tx`DELETE FROM message WHERE id = ${m.id}`;
    return { ok: false, error };
  };
  if (!(await charge(tx, m.meshId, m.senderMemberId, bytes, quota.member))) return refuse(overQuota("you have", quota.member), false);
  if (!(await charge(tx, m.meshId, "", bytes, quota.mesh))) return refuse(overQuota("this mesh has", quota.mesh), true);
  for (const batch of chunks(recipients, 100)) {
    const rows = batch.map((r) => ({
      message_id: m.id,
      mesh_id: m.meshId,
      session_pubkey: r.sessionPubkey,
      member_id: r.memberId,
      name: r.name,
      nonce: r.nonce,
      ciphertext: r.ciphertext,
      status: "queued",
      queued_at: m.createdAt,
      expires_at: expiresAt,
    }));
    await tx`INSERT INTO message_recipient ${tx(rows)}`;
  }
  return { ok: true, value: true };
}

/** Chunks id lists so IN (...) stays within every dialect's parameter limit. */
function* chunks<T>(items: T[], size = 500): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export class MessageRepo {
  constructor(private readonly store: Store) {}

  private get sql() {
    return this.store.sql;
  }

  async findByClientId(
    meshId: string,
    senderMemberId: string,
    clientId: string,
  ): Promise<{ id: string; recipients: { name: string; sessionPubkey: string }[] } | null> {
    const [m] = await this.sql`SELECT id FROM message WHERE mesh_id = ${meshId} AND sender_member_id = ${senderMemberId} AND client_id = ${clientId}`;
    if (!m) return null;
    const rs = await this.sql`SELECT name, session_pubkey FROM message_recipient WHERE message_id = ${m.id} ORDER BY seq`;
    return { id: String(m.id), recipients: rs.map((r: Row) => ({ name: String(r.name), sessionPubkey: String(r.session_pubkey) })) };
  }

  /**
   * Stores many messages and their recipient rows in one transaction (the group commit); per job, true
   * when stored, false when the same client id was stored first (the caller answers with that message).
   */
  insertMany(jobs: InsertJob[]): Promise<Outcome<boolean>[]> {
    return this.sql.begin(async (tx) => {
      const out: Outcome<boolean>[] = [];
      for (const job of jobs) out.push(await insertOne(tx, job));
      return out;
    });
  }

  /**
   * Queued messages for one session in queue order, optionally only some priorities, each with how many
   * `low` ones wait for check_messages (one statement: the count is an uncorrelated subquery, run once).
   */
  async queuedFor(sessionPubkey: string, priorities: Priority[], now: number): Promise<PushBody[]> {
    if (priorities.length === 0) return [];
    const rows = await this.sql`
      SELECT r.message_id, r.nonce AS r_nonce, r.ciphertext AS r_ciphertext, m.nonce AS m_nonce, m.ciphertext AS m_ciphertext,
             m.mesh_id, m.sender_name, sm.display_name AS sender_member_name, m.sender_session_pubkey, m.sender_member_id, m.priority, m.kind, m.target_spec, m.created_at,
             (SELECT count(*) FROM message_recipient lr JOIN message lm ON lm.id = lr.message_id
               WHERE lr.session_pubkey = ${sessionPubkey} AND lr.status = 'queued' AND lr.expires_at > ${now} AND lm.priority = 'low') AS low_pending
      FROM message_recipient r JOIN message m ON m.id = r.message_id JOIN member sm ON sm.id = m.sender_member_id
      WHERE r.session_pubkey = ${sessionPubkey} AND r.status = 'queued' AND r.expires_at > ${now}
        AND m.priority IN ${this.sql(priorities)}
      ORDER BY r.seq`;
    return rows.map(toPush);
  }

  /**
   * Receipts of many sessions at once. SQLite has one writer, so they share one transaction (one fsync
   * for a whole broadcast's worth); Postgres runs them side by side on its connection pool. Grouped by
   * message when that makes fewer statements (a broadcast: every recipient acknowledges one id), else
   * by session (a drain: one session acknowledges many).
   */
  async markDelivered(receipts: { sessionPubkey: string; ids: string[] }[], now: number): Promise<void> {
    const bySession = receipts.flatMap(({ sessionPubkey, ids }) => [...chunks(ids)].map((batch) => ({ sessionPubkey, batch })));
    const sessionsOf = new Map<string, string[]>();
    for (const { sessionPubkey, ids } of receipts) {
      for (const id of ids) {
        const list = sessionsOf.get(id);
        if (list) list.push(sessionPubkey);
        else sessionsOf.set(id, [sessionPubkey]);
      }
    }
    const byMessage = [...sessionsOf].flatMap(([messageId, sessions]) => [...chunks(sessions)].map((batch) => ({ messageId, batch })));
    const run = (sql: SQL): Promise<unknown>[] =>
      byMessage.length < bySession.length
        ? byMessage.map(
            (w) => sql`UPDATE message_recipient SET status = 'delivered', delivered_at = ${now}
              WHERE message_id = ${w.messageId} AND status = 'queued' AND session_pubkey IN ${sql(w.batch)}`,
          )
        : bySession.map(
            (w) => sql`UPDATE message_recipient SET status = 'delivered', delivered_at = ${now}
              WHERE session_pubkey = ${w.sessionPubkey} AND status = 'queued' AND message_id IN ${sql(w.batch)}`,
          );
    if (this.store.dialect === "postgres") {
      await Promise.all(run(this.sql));
      return;
    }
    await this.sql.begin(async (tx) => {
      for (const q of run(tx)) await q;
    });
  }

  async markSurfaced(sessionPubkey: string, ids: string[], now: number): Promise<void> {
    for (const batch of chunks(ids)) {
      await this.sql`UPDATE message_recipient SET status = 'surfaced', surfaced_at = ${now}, delivered_at = COALESCE(delivered_at, ${now})
        WHERE session_pubkey = ${sessionPubkey} AND status IN ('queued', 'delivered') AND message_id IN ${this.sql(batch)}`;
    }
  }

  /**
   * The queues of many sessions in one statement (a broadcast's recipients), by session, in queue order;
   * the `low` count per session is a correlated count on the queue index.
   */
  async queuedForMany(sessionPubkeys: string[], priorities: Priority[], now: number): Promise<Map<string, PushBody[]>> {
    const out = new Map<string, PushBody[]>();
    if (priorities.length === 0) return out;
    for (const batch of chunks(sessionPubkeys, 500)) {
      const rows = await this.sql`
        SELECT r.session_pubkey, r.message_id, r.nonce AS r_nonce, r.ciphertext AS r_ciphertext, m.nonce AS m_nonce, m.ciphertext AS m_ciphertext,
               m.mesh_id, m.sender_name, sm.display_name AS sender_member_name, m.sender_session_pubkey, m.sender_member_id, m.priority, m.kind, m.target_spec, m.created_at,
               (SELECT count(*) FROM message_recipient lr JOIN message lm ON lm.id = lr.message_id
                 WHERE lr.session_pubkey = r.session_pubkey AND lr.status = 'queued' AND lr.expires_at > ${now} AND lm.priority = 'low') AS low_pending
        FROM message_recipient r JOIN message m ON m.id = r.message_id JOIN member sm ON sm.id = m.sender_member_id
        WHERE r.session_pubkey IN ${this.sql(batch)} AND r.status = 'queued' AND r.expires_at > ${now}
          AND m.priority IN ${this.sql(priorities)}
        ORDER BY r.seq`;
      for (const r of rows as Row[]) {
        const key = String(r.session_pubkey);
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push(toPush(r));
      }
    }
    return out;
  }

  /** Recipient rows still waiting to be delivered, across every mesh (an operator's metric). */
  async queueDepth(now: number): Promise<number> {
    const [r] = await this.sql`SELECT count(*) AS n FROM message_recipient WHERE status = 'queued' AND expires_at > ${now}`;
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
