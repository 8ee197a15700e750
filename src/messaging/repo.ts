import type { SQL } from "bun";
import type { Store } from "../store/db.ts";
import type { Dialect } from "../store/migration.ts";
import { inList, num, numOrNull } from "../store/db.ts";
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

/**
 * Adds one message of `bytes` to the sender's usage row and to its mesh's (member id "") in one upsert,
 * each row only while within its own limit (a new row starts at this message, so the caller checks first
 * that one message fits at all); says which rows took it.
 */
async function charge(tx: SQL, meshId: string, memberId: string, bytes: number, quota: Quota): Promise<{ member: boolean; mesh: boolean }> {
  const rows =
    await tx`INSERT INTO message_usage (mesh_id, member_id, messages, bytes) VALUES (${meshId}, ${memberId}, 1, ${bytes}), (${meshId}, '', 1, ${bytes})
    ON CONFLICT (mesh_id, member_id) DO UPDATE SET messages = message_usage.messages + 1, bytes = message_usage.bytes + excluded.bytes
    WHERE message_usage.messages + 1 <= CASE WHEN message_usage.member_id = '' THEN ${quota.mesh.messages} ELSE ${quota.member.messages} END
      AND message_usage.bytes + excluded.bytes <= CASE WHEN message_usage.member_id = '' THEN ${quota.mesh.bytes} ELSE ${quota.member.bytes} END
    RETURNING member_id`;
  const took = new Set(rows.map((r: Row) => String(r.member_id)));
  return { member: took.has(memberId), mesh: took.has("") };
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
async function insertOne(tx: SQL, dialect: Dialect, { message: m, recipients, ttlMs, quota }: InsertJob): Promise<Outcome<boolean>> {
  const expiresAt = m.createdAt + ttlMs;
  const bytes = (m.ciphertext?.length ?? 0) + recipients.reduce((n, r) => n + (r.ciphertext?.length ?? 0), 0);
  const inserted =
    await tx`INSERT INTO message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at, bytes, expires_at)
    VALUES (${m.id}, ${m.meshId}, ${m.senderMemberId}, ${m.senderSessionPubkey}, ${m.senderName}, ${m.clientId}, ${m.targetSpec}, ${m.priority}, ${m.kind}, ${m.nonce}, ${m.ciphertext}, ${m.createdAt}, ${bytes}, ${expiresAt})
    ON CONFLICT (mesh_id, sender_member_id, client_id) DO NOTHING RETURNING id`;
  // the same client id won a race (an earlier batch, or earlier in this one): the caller answers with it
  if (inserted.length === 0) return { ok: true, value: false };
  // A refusal gives back what this message took (the usage row `refund`, if any) and deletes it; the
  // member's own quota is the one told first.
  const refuse = async (refund: string | null, over: "member" | "mesh"): Promise<Outcome<boolean>> => {
    if (refund !== null)
      await tx`UPDATE message_usage SET messages = messages - 1, bytes = bytes - ${bytes} WHERE mesh_id = ${m.meshId} AND member_id = ${refund}`;
    await tx`DELETE FROM message WHERE id = ${m.id}`;
    return { ok: false, error: over === "member" ? overQuota("you have", quota.member) : overQuota("this mesh has", quota.mesh) };
  };
  const fits = (l: Quota["member"]) => l.messages >= 1 && bytes <= l.bytes;
  if (!fits(quota.member)) return refuse(null, "member");
  if (!fits(quota.mesh)) return refuse(null, "mesh");
  const took = await charge(tx, m.meshId, m.senderMemberId, bytes, quota);
  if (!took.member) return refuse(took.mesh ? "" : null, "member");
  if (!took.mesh) return refuse(m.senderMemberId, "mesh");
  // One statement whatever the fan-out: the rows travel as one JSON parameter. A multi-row VALUES list
  // would be a statement of thousands of placeholders, compiled again for every message (SQLite: ~5 ms
  // for 100 rows of 10 columns), the larger part of a broadcast's cost.
  const json = JSON.stringify(recipients.map((r) => ({ s: r.sessionPubkey, m: r.memberId, n: r.name, nc: r.nonce, c: r.ciphertext })));
  if (dialect === "sqlite") {
    await tx`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at)
      SELECT ${m.id}, ${m.meshId}, j.value ->> 's', j.value ->> 'm', j.value ->> 'n', j.value ->> 'nc', j.value ->> 'c', 'queued', ${m.createdAt}, ${expiresAt}
      FROM json_each(${json}) j ORDER BY j.key`;
  } else {
    await tx`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at)
      SELECT ${m.id}, ${m.meshId}, e.v ->> 's', e.v ->> 'm', e.v ->> 'n', e.v ->> 'nc', e.v ->> 'c', 'queued', ${m.createdAt}, ${expiresAt}
      FROM json_array_elements(${json}::text::json) WITH ORDINALITY AS e(v, i) ORDER BY e.i`;
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
   * Stores a message and its recipient rows in the store's shared transaction (its group commit): true
   * when stored, false when the same client id was stored first (the caller answers with that message).
   */
  insert(job: InsertJob): Promise<boolean> {
    return this.store.writer.write((tx) => insertOne(tx, this.store.dialect, job));
  }

  /** Everything queued for one session in queue order, payloads included (a drain: `low` ones too). */
  async queuedFor(sessionPubkey: string, priorities: Priority[], now: number): Promise<PushBody[]> {
    if (priorities.length === 0) return [];
    const rows = await this.sql`
      SELECT r.message_id, COALESCE(r.nonce, m.nonce) AS nonce, COALESCE(r.ciphertext, m.ciphertext) AS ciphertext,
             m.mesh_id, m.sender_name, sm.display_name AS sender_member_name, m.sender_session_pubkey, m.sender_member_id, m.priority, m.kind, m.target_spec, m.created_at
      FROM message_recipient r JOIN message m ON m.id = r.message_id JOIN member sm ON sm.id = m.sender_member_id
      WHERE r.session_pubkey = ${sessionPubkey} AND r.status = 'queued' AND r.expires_at > ${now}
        AND m.priority IN ${this.sql(priorities)}
      ORDER BY r.seq`;
    return rows.map(toPush);
  }

  /**
   * Receipts of many sessions at once, in the store's shared transaction (a broadcast's worth costs one
   * commit, shared with the messages stored meanwhile). Grouped by message when that makes fewer
   * statements (a broadcast: every recipient acknowledges one id), else by session (a drain: one session
   * acknowledges many); each statement's list travels as one JSON parameter (`inList`). On Postgres the rows are
   * found by (message, session) alone, before the status is looked at: offered `status = 'queued'` with
   * statistics that lag a burst of new rows (before autovacuum's next ANALYZE), the planner scanned every
   * queued row through the expiry index instead, 300–440 ms for a broadcast's receipts (a bench run).
   */
  markDelivered(receipts: { sessionPubkey: string; ids: string[] }[], now: number): Promise<void> {
    const sessionsOf = new Map<string, string[]>();
    for (const { sessionPubkey, ids } of receipts) {
      for (const id of ids) {
        const list = sessionsOf.get(id);
        if (list) list.push(sessionPubkey);
        else sessionsOf.set(id, [sessionPubkey]);
      }
    }
    const byMessage = sessionsOf.size < receipts.length;
    const groups: [string, string[]][] = byMessage ? [...sessionsOf] : receipts.map(({ sessionPubkey, ids }) => [sessionPubkey, ids]);
    const dialect = this.store.dialect;
    return this.store.writer.write(async (tx) => {
      for (const [key, list] of groups) {
        const rows = byMessage
          ? tx`message_id = ${key} AND session_pubkey ${inList(tx, dialect, list)}`
          : tx`session_pubkey = ${key} AND message_id ${inList(tx, dialect, list)}`;
        if (dialect === "sqlite") {
          await tx`UPDATE message_recipient SET status = 'delivered', delivered_at = ${now} WHERE ${rows} AND status = 'queued'`;
        } else {
          await tx`WITH hit AS MATERIALIZED (SELECT seq FROM message_recipient WHERE ${rows})
            UPDATE message_recipient SET status = 'delivered', delivered_at = ${now} WHERE seq IN (SELECT seq FROM hit) AND status = 'queued'`;
        }
      }
      return { ok: true, value: undefined };
    });
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
    for (const batch of chunks(sessionPubkeys, 500)) {
      const rows = await this.sql`
        SELECT r.seq, r.session_pubkey, r.message_id, m.priority,
               CASE WHEN m.priority = 'low' THEN NULL ELSE COALESCE(r.nonce, m.nonce) END AS nonce,
               CASE WHEN m.priority = 'low' THEN NULL ELSE COALESCE(r.ciphertext, m.ciphertext) END AS ciphertext,
               m.mesh_id, m.sender_name, sm.display_name AS sender_member_name, m.sender_session_pubkey, m.sender_member_id, m.kind, m.target_spec, m.created_at
        FROM message_recipient r JOIN message m ON m.id = r.message_id JOIN member sm ON sm.id = m.sender_member_id
        WHERE r.session_pubkey ${inList(this.sql, this.store.dialect, batch)} AND r.status = 'queued' AND r.expires_at > ${now}
          AND m.priority IN ${this.sql(priorities)}`;
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
