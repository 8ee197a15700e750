import { describe, expect, test } from "bun:test";
import { MeshRepo, type PresenceOp } from "../../src/meshes/repo.ts";
import { delegationMigration, meshesMigration, presenceNodeMigration, requestNonceMigration } from "../../src/meshes/schema.ts";
import { migrate } from "../../src/store/migrate.ts";
import { Writer } from "../../src/store/writer.ts";
import { systemClock } from "../../src/util/clock.ts";
import { backends, withStore } from "../helpers/backends.ts";
import { countPrepared } from "../helpers/prepared.ts";

// A hello's lookup (`meshAndMember`): on SQLite it runs with its statements kept prepared, and it must
// read exactly what the general statement reads, for every combination a hello can bring.
describe.each(backends())("the meshes repo's hot statements on %s", (backend) => {
  test("finds the mesh and the member, each null when unknown, the same on either path", async () => {
    await withStore(backend, "meshes/repo", async (store) => {
      await migrate(store, [meshesMigration, requestNonceMigration, presenceNodeMigration, delegationMigration]);
      const { mesh, owner } = await new MeshRepo(store, systemClock).createMesh({ slug: "lookup", ownerPubkey: "ab".repeat(32), ownerName: "alice" });
      if (!owner) throw new Error("createMesh made no owner");
      const { store: counted, reads: preparedReads } = countPrepared(store);
      const fast = new MeshRepo(counted, systemClock);
      const general = new MeshRepo({ ...store, prepared: undefined }, systemClock);
      const cases: [string, string][] = [
        [mesh.id, owner.id],
        [mesh.id, "mbr_nobody"],
        ["mesh_nowhere", owner.id],
        ["mesh_nowhere", "mbr_nobody"],
      ];
      const found = [];
      for (const [meshId, memberId] of cases) {
        const r = await fast.meshAndMember(meshId, memberId);
        expect(await general.meshAndMember(meshId, memberId)).toEqual(r);
        found.push([r.mesh?.slug ?? null, r.member?.displayName ?? null]);
      }
      expect(found).toEqual([
        ["lookup", "alice"],
        ["lookup", null],
        [null, "alice"],
        [null, null],
      ]);
      expect(await fast.meshAndMember(mesh.id, owner.id)).toEqual({ mesh, member: owner });
      // on SQLite two prepared lookups a call, the mesh and the member
      expect(preparedReads()).toBe(backend === "sqlite" ? 2 * (cases.length + 1) : 0);
    });
  });

  // Presence rows are written through the store's shared writer: on SQLite its fast connection, with the
  // statements as text; the general path (Postgres, and SQLite's fallback) must write the same rows.
  test("a batch of presence opens and closes writes the same rows on either path", async () => {
    await withStore(backend, "meshes/presence-batch", async (store) => {
      await migrate(store, [meshesMigration, requestNonceMigration, presenceNodeMigration, delegationMigration]);
      const { mesh, owner } = await new MeshRepo(store, systemClock).createMesh({ slug: "presence", ownerPubkey: "cd".repeat(32), ownerName: "bob" });
      if (!owner) throw new Error("createMesh made no owner");
      const general = new MeshRepo({ ...store, writer: new Writer((body) => store.sql.begin((tx) => body(tx))) }, systemClock);
      const fast = new MeshRepo(store, systemClock);
      const open = (id: string, at: number): PresenceOp => ({
        kind: "open",
        row: { id, meshId: mesh.id, memberId: owner.id, sessionPubkey: `${id}-key`, displayName: `${id}-name`, connectedAt: at, nodeId: "node-a" },
      });
      const close = (id: string, at: number): PresenceOp => ({ kind: "close", id, at });
      // one batch: three opens, one of them closed in the same batch (opens go first); then a later batch
      // closes the others at two clock readings, and the first one again (its first close stays)
      const batches = (p: string): PresenceOp[][] => [
        [open(`${p}1`, 10), close(`${p}1`, 11), open(`${p}2`, 12), open(`${p}3`, 13)],
        [close(`${p}2`, 20), close(`${p}3`, 21), close(`${p}1`, 22)],
      ];
      const fastBefore = store.writer.counts.fast;
      for (const b of batches("f")) await fast.writePresence(b);
      for (const b of batches("g")) await general.writePresence(b);
      if (backend === "sqlite") expect(store.writer.counts.fast - fastBefore).toBe(2);
      const rows = async (p: string) =>
        (
          (await store.sql`SELECT id, session_pubkey, display_name, connected_at, disconnected_at, node_id
          FROM presence WHERE id LIKE ${`${p}%`} ORDER BY id`) as Record<string, unknown>[]
        ).map((r) => ({
          id: String(r.id).slice(1),
          sessionPubkey: String(r.session_pubkey).slice(1),
          displayName: String(r.display_name).slice(1),
          connectedAt: Number(r.connected_at),
          disconnectedAt: Number(r.disconnected_at),
          nodeId: r.node_id,
        }));
      const written = await rows("f");
      expect(written).toEqual([
        { id: "1", sessionPubkey: "1-key", displayName: "1-name", connectedAt: 10, disconnectedAt: 11, nodeId: "node-a" },
        { id: "2", sessionPubkey: "2-key", displayName: "2-name", connectedAt: 12, disconnectedAt: 20, nodeId: "node-a" },
        { id: "3", sessionPubkey: "3-key", displayName: "3-name", connectedAt: 13, disconnectedAt: 21, nodeId: "node-a" },
      ]);
      expect(await rows("g")).toEqual(written);
    });
  });
});
