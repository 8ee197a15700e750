import { describe, expect, test } from "bun:test";
import { brokerRequest } from "../../src/client/http.ts";
import { InviteResponse, MembersResponse, RevokeResponse } from "../../src/meshes/api.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, connect, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { flush, messagingPeer, texts } from "../helpers/messaging.ts";

describe.each(backends())("cross-mesh isolation on %s", (backend) => {
  let b: TestBroker;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
  });

  test("a member of mesh A cannot list, join or affect anything of mesh B", async () => {
    const A = await createMesh(b, "mesh-a");
    const B = await createMesh(b, "mesh-b");
    const mallory = await addMember(b, A, "Mallory");
    const bobMember = await addMember(b, B, "Bob");
    const bob = await messagingPeer(bobMember, { groups: [{ name: "shared", role: "lead" }] });
    const bob2 = await messagingPeer(await addMember(b, B, "Bob2"), { groups: [{ name: "shared", role: null }] });
    const m = await messagingPeer(mallory, { groups: [{ name: "shared", role: null }] });

    // list: only its own mesh, even filtered by a group name both meshes use
    const peers = await m.client.request({ type: "list_peers" }, "peers_list");
    expect(peers.peers.map((p) => p.name)).toEqual(["Mallory"]);
    const grp = await m.client.request({ type: "list_peers", group: "shared" }, "peers_list");
    expect(grp.peers.map((p) => p.name)).toEqual(["Mallory"]);

    // joining a same-named group does not put Mallory in B's group
    await m.client.request({ type: "join_group", name: "shared", role: "lead" });
    const bPeers = await bob.client.request({ type: "list_peers", group: "shared" }, "peers_list");
    expect(bPeers.peers.map((p) => p.name).sort()).toEqual(["Bob", "Bob2"]);

    // messaging: B's peers are unknown targets; broadcasts stay inside A
    await expect(m.messenger.send("Bob", "hi")).rejects.toMatchObject({ code: "unknown_target" });
    await expect(m.messenger.send("@shared", "hi")).rejects.toMatchObject({ code: "unknown_target" });
    await flush(bob2, bob);
    expect(texts(bob)).toEqual([]);

    // HTTP: members, invites and revocation of B are refused with A's key
    const auth = { kind: "member" as const, mesh: mallory };
    await expect(brokerRequest(b.url, "GET", `/meshes/${B.meshId}/members`, MembersResponse, { auth })).rejects.toMatchObject({ code: "wrong_mesh" });
    await expect(brokerRequest(b.url, "POST", `/meshes/${B.meshId}/invites`, InviteResponse, { auth, body: {} })).rejects.toMatchObject({ code: "wrong_mesh" });
    await expect(brokerRequest(b.url, "POST", `/meshes/${B.meshId}/members/${bobMember.memberId}/revoke`, RevokeResponse, { auth })).rejects.toMatchObject({
      code: "wrong_mesh",
    });
    // even A's owner cannot touch B
    const ownerAuth = { kind: "member" as const, mesh: A.owner };
    await expect(
      brokerRequest(b.url, "POST", `/meshes/${B.meshId}/members/${bobMember.memberId}/revoke`, RevokeResponse, { auth: ownerAuth }),
    ).rejects.toMatchObject({ code: "wrong_mesh" });
    // revoking B's member through A's id space finds nobody
    await expect(
      brokerRequest(b.url, "POST", `/meshes/${A.meshId}/members/${bobMember.memberId}/revoke`, RevokeResponse, { auth: ownerAuth }),
    ).rejects.toMatchObject({ code: "not_found" });
    expect(bob.client.connected).toBe(true);

    // hello into B with A's member is refused
    await expect(connect({ ...mallory, meshId: B.meshId }, { reconnect: false })).rejects.toMatchObject({ code: "wrong_mesh" });
  });
});
