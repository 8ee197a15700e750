import type { SQL } from "bun";
import type { Store } from "../store/db.ts";
import { inList, num } from "../store/db.ts";

type Row = Record<string, unknown>;

export interface SenderUsage {
  memberId: string;
  messages: number;
  bytes: number;
}

/**
 * What the broker keeps of a message, and for how long. Ciphertext is deleted as soon as every recipient
 * has surfaced the message or it expired (nobody can be pushed it again); the ciphertext-free rows stay
 * for `message_status` until `statusRetentionMs` after expiry, then go too.
 */
export class MessageRetention {
  constructor(private readonly store: Store) {}

  private get sql() {
    return this.store.sql;
  }

  /**
   * Deletes the ciphertext of finished messages (all of them, or only `ids`) and gives their bytes back
   * to the senders' and meshes' usage. Returns how many messages it purged.
   */
  async purge(now: number, ids?: string[]): Promise<number> {
    if (ids) {
      let purged = 0;
      for (let i = 0; i < ids.length; i += 500) purged += await this.purgeBatch(now, ids.slice(i, i + 500));
      return purged;
    }
    let purged = 0;
    for (;;) {
      const n = await this.purgeBatch(now);
      purged += n;
      if (n < 1000) return purged;
    }
  }

  /** A message is finished when it expired or none of its recipients can still be pushed it. */
  private async purgeBatch(now: number, ids?: string[]): Promise<number> {
    const open = ["queued", "delivered"];
    const candidates: Row[] = ids
      ? await this.sql`SELECT m.id FROM message m WHERE m.id ${inList(this.sql, this.store.dialect, ids)} AND m.purged_at IS NULL
          AND (m.expires_at <= ${now} OR NOT EXISTS (SELECT 1 FROM message_recipient r WHERE r.message_id = m.id AND r.status IN ${this.sql(open)}))`
      : await this.sql`SELECT m.id FROM message m WHERE m.purged_at IS NULL
          AND (m.expires_at <= ${now} OR NOT EXISTS (SELECT 1 FROM message_recipient r WHERE r.message_id = m.id AND r.status IN ${this.sql(open)}))
          LIMIT 1000`;
    if (candidates.length === 0) return 0;
    const batch = candidates.map((r) => String(r.id));
    return this.sql.begin(async (tx) => {
      // purged_at IS NULL makes a concurrent purge of the same message give its bytes back only once
      const done: Row[] =
        await tx`UPDATE message SET purged_at = ${now}, ciphertext = NULL WHERE id ${inList(tx, this.store.dialect, batch)} AND purged_at IS NULL
        RETURNING mesh_id, sender_member_id, bytes`;
      if (done.length === 0) return 0;
      await tx`UPDATE message_recipient SET ciphertext = NULL WHERE message_id ${inList(tx, this.store.dialect, batch)} AND ciphertext IS NOT NULL`;
      const give = new Map<string, { meshId: string; memberId: string; messages: number; bytes: number }>();
      for (const r of done) {
        for (const memberId of [String(r.sender_member_id), ""]) {
          const key = `${r.mesh_id}\n${memberId}`;
          const u = give.get(key) ?? { meshId: String(r.mesh_id), memberId, messages: 0, bytes: 0 };
          u.messages += 1;
          u.bytes += num(r.bytes);
          give.set(key, u);
        }
      }
      for (const u of give.values()) await release(tx, u);
      return done.length;
    });
  }

  /** Removes the status rows of messages whose ciphertext is gone and whose retention has passed. */
  async prune(now: number, statusRetentionMs: number): Promise<number> {
    const r = await this.sql`DELETE FROM message WHERE purged_at IS NOT NULL AND expires_at <= ${now - statusRetentionMs}`;
    return r.count;
  }

  /** Stored (not yet purged) messages and bytes per sender of a mesh, and for the whole mesh (memberId ''). */
  async usage(meshId: string): Promise<SenderUsage[]> {
    const rows: Row[] = await this.sql`SELECT member_id, messages, bytes FROM message_usage WHERE mesh_id = ${meshId} ORDER BY member_id`;
    return rows.map((r) => ({ memberId: String(r.member_id), messages: num(r.messages), bytes: num(r.bytes) }));
  }
}

async function release(tx: SQL, u: { meshId: string; memberId: string; messages: number; bytes: number }): Promise<void> {
  await tx`UPDATE message_usage SET messages = messages - ${u.messages}, bytes = bytes - ${u.bytes} WHERE mesh_id = ${u.meshId} AND member_id = ${u.memberId}`;
}
