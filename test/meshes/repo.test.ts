import { describe, expect, test } from "bun:test";
import { MeshRepo } from "../../src/meshes/repo.ts";
import { delegationMigration, meshesMigration, presenceNodeMigration, requestNonceMigration } from "../../src/meshes/schema.ts";
import { migrate } from "../../src/store/migrate.ts";
import { systemClock } from "../../src/util/clock.ts";
import { backends, withStore } from "../helpers/backends.ts";
import { countPrepared } from "../helpers/prepared.ts";

// A hello's lookup (`meshAndMember`): on SQLite it runs with its statements kept prepared, and it must
// read exactly what the general statement reads, for every combination a hello can bring.
describe.each(backends())("the hello's mesh-and-member lookup on %s", (backend) => {
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
});
