import { describe, expect, test } from "bun:test";
import { meshesMigration } from "../../src/meshes/schema.ts";
import { messageQuotaMigration, messagingMigration } from "../../src/messaging/schema.ts";
import { MessageRetention } from "../../src/messaging/retention.ts";
import { migrate } from "../../src/store/migrate.ts";
import { backends, withStore } from "../helpers/backends.ts";

// A store from before the quotas: its stored messages must count against them from the first start.
describe.each(backends())("the quota migration on %s", (backend) => {
  test("backfills bytes, expiry and usage from messages already stored", async () => {
    await withStore(backend, "messaging/quota-migration", async (store) => {
      await migrate(store, [meshesMigration, messagingMigration]);
      const sql = store.sql;
      await sql`INSERT INTO mesh (id, slug, owner_pubkey, created_at) VALUES ('mesh_1', 'old', 'k', 1)`;
      for (const id of ["mbr_a", "mbr_b"]) {
        await sql`INSERT INTO member (id, mesh_id, pubkey, display_name, role, joined_at) VALUES (${id}, 'mesh_1', ${id}, ${id}, 'member', 1)`;
      }
      const message = (id: string, sender: string, ciphertext: string | null) =>
        sql`INSERT INTO message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at)
          VALUES (${id}, 'mesh_1', ${sender}, 's', 'n', ${id}, 't', 'now', ${ciphertext === null ? "direct" : "group"}, 'nn', ${ciphertext}, 10)`;
      const recipient = (messageId: string, session: string, ciphertext: string | null, expiresAt: number) =>
        sql`INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at)
          VALUES (${messageId}, 'mesh_1', ${session}, 'mbr_b', 'b', 'nn', ${ciphertext}, 'queued', 10, ${expiresAt})`;
      await message("msg_direct", "mbr_a", null);
      await recipient("msg_direct", "s1", "x".repeat(100), 5_000);
      await recipient("msg_direct", "s2", "y".repeat(50), 5_000);
      await message("msg_group", "mbr_a", "g".repeat(30));
      await recipient("msg_group", "s1", null, 6_000);
      await message("msg_b", "mbr_b", "z".repeat(7));

      expect(await migrate(store, [meshesMigration, messagingMigration, messageQuotaMigration])).toEqual([messageQuotaMigration.version]);
      const rows = await sql`SELECT id, bytes, expires_at FROM message ORDER BY id`;
      expect(rows.map((r: Record<string, unknown>) => [r.id, Number(r.bytes), Number(r.expires_at)])).toEqual([
        ["msg_b", 7, 10], // no recipient rows: expires at once, so the next sweep frees it
        ["msg_direct", 150, 5_000],
        ["msg_group", 30, 6_000],
      ]);
      const usage = await new MessageRetention(store).usage("mesh_1");
      expect(usage).toEqual([
        { memberId: "", messages: 3, bytes: 187 },
        { memberId: "mbr_a", messages: 2, bytes: 180 },
        { memberId: "mbr_b", messages: 1, bytes: 7 },
      ]);
      // and the first sweep after the upgrade gives back what has expired
      expect(await new MessageRetention(store).purge(5_500)).toBe(2);
      expect((await new MessageRetention(store).usage("mesh_1")).find((u) => u.memberId === "")).toEqual({ memberId: "", messages: 1, bytes: 30 });
    });
  });
});
