import { afterEach, describe, expect, test } from "bun:test";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import {
  CreateMeshResponse,
  InviteResponse,
  InvitesResponse,
  JoinResponse,
  MembersResponse,
  RevokeInviteResponse,
  RevokeResponse,
} from "../../src/meshes/api.ts";
import { PeersListFrame } from "../../src/presence/frames.ts";
import { backends } from "../helpers/backends.ts";
import { closeClients, connect, createMesh, outcome, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

type Role = "owner" | "admin" | "member";

describe.each(backends())("roles, revocation and invites on %s", (backend) => {
  let b: TestBroker;
  let n = 0;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
  });
  afterEach(() => closeClients());

  const operator = () => ({ kind: "admin" as const, token: b.adminToken });
  const as = (m: MeshConfig) => ({ kind: "member" as const, mesh: m });

  async function join(mesh: TestMesh, token: string, name: string): Promise<MeshConfig> {
    const keys = generateSigningKeyPair();
    const res = await brokerRequest(b.url, "POST", "/join", JoinResponse, { body: { token, pubkey: keys.publicKey, displayName: name } });
    return { ...mesh.owner, memberId: res.memberId, displayName: name, role: res.role, pubkey: keys.publicKey, secretKey: keys.secretKey };
  }

  async function invite(mesh: TestMesh, role: "member" | "admin", body: Record<string, unknown> = {}) {
    return brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: operator(), body: { role, ...body } });
  }

  async function enrol(mesh: TestMesh, role: Role, name: string): Promise<MeshConfig> {
    if (role === "owner") return mesh.owner;
    return join(mesh, (await invite(mesh, role)).token, name);
  }

  const revoke = (mesh: TestMesh, by: MeshConfig | "operator", target: string) =>
    brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/members/${encodeURIComponent(target)}/revoke`, RevokeResponse, {
      auth: by === "operator" ? operator() : as(by),
    });

  const roles: Role[] = ["owner", "admin", "member"];
  const allowed: Record<Role, Record<Role, boolean>> = {
    owner: { owner: true, admin: true, member: true }, // owner → owner is the owner revoking itself
    admin: { owner: false, admin: false, member: true },
    member: { owner: false, admin: false, member: false },
  };
  for (const actorRole of roles) {
    for (const targetRole of roles) {
      const ok = allowed[actorRole][targetRole];
      test(`${actorRole} revoking ${targetRole === actorRole && actorRole !== "owner" ? "another " : ""}${targetRole}: ${ok ? "allowed" : "forbidden"}`, async () => {
        const mesh = await createMesh(b, `roles-${backend.slice(0, 2)}-${++n}`);
        const actor = await enrol(mesh, actorRole, `actor-${actorRole}`);
        const target = actorRole === "owner" && targetRole === "owner" ? mesh.owner : await enrol(mesh, targetRole, `target-${targetRole}`);
        const result = await outcome(revoke(mesh, actor, target.memberId));
        expect(result).toBe(ok ? "ok" : "forbidden");
        const members = await brokerRequest(b.url, "GET", `/meshes/${mesh.meshId}/members`, MembersResponse, { auth: operator() });
        expect(members.members.find((m) => m.id === target.memberId)?.revokedAt !== null).toBe(ok);
      });
    }
  }

  test("anyone may revoke itself; the operator may revoke admins and members but not the owner", async () => {
    const mesh = await createMesh(b, `roles-self-${backend}`);
    for (const role of ["admin", "member"] as const) {
      const m = await enrol(mesh, role, `self-${role}`);
      expect(await outcome(revoke(mesh, m, m.memberId))).toBe("ok");
    }
    expect(await outcome(revoke(mesh, "operator", (await enrol(mesh, "admin", "op-admin")).memberId))).toBe("ok");
    expect(await outcome(revoke(mesh, "operator", (await enrol(mesh, "member", "op-member")).memberId))).toBe("ok");
    expect(await outcome(revoke(mesh, "operator", mesh.owner.memberId))).toBe("forbidden");
    // By display name, all or nothing: a name shared by a member and an admin is refused to an admin.
    const admin = await enrol(mesh, "admin", "Twin");
    const twin = await enrol(mesh, "member", "Twin");
    const other = await enrol(mesh, "admin", "Other admin");
    expect(await outcome(revoke(mesh, other, "Twin"))).toBe("forbidden");
    expect(await revoke(mesh, mesh.owner, "Twin")).toMatchObject({ revoked: [admin.memberId, twin.memberId] });
  });

  test("after the owner revokes itself, the mesh keeps working for its members", async () => {
    const mesh = await createMesh(b, `roles-orphan-${backend}`);
    const admin = await enrol(mesh, "admin", "Keeper");
    const alice = await enrol(mesh, "member", "Alice");
    expect(await outcome(revoke(mesh, mesh.owner, mesh.owner.memberId))).toBe("ok");
    const a = await connect(alice);
    await connect(admin);
    const peers = await a.request({ type: "list_peers" }, "peers_list");
    expect(
      PeersListFrame.parse(peers)
        .peers.map((p) => p.name)
        .sort(),
    ).toEqual(["Alice", "Keeper"]);
    // the admin still administers: mints a member invite that works
    const inv = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: as(admin), body: {} });
    expect((await join(mesh, inv.token, "Newcomer")).role).toBe("member");
  });

  test("invite rights: admins mint, list and revoke member invites only; members none of it", async () => {
    const mesh = await createMesh(b, `roles-inv-${backend}`);
    const admin = await enrol(mesh, "admin", "Adm");
    const member = await enrol(mesh, "member", "Mem");
    const mint = (who: MeshConfig, role: string) =>
      outcome(brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: as(who), body: { role } }));
    expect(await mint(mesh.owner, "admin")).toBe("ok");
    expect(await mint(admin, "member")).toBe("ok");
    expect(await mint(admin, "admin")).toBe("forbidden");
    expect(await mint(member, "member")).toBe("forbidden");

    const list = (who: MeshConfig) => brokerRequest(b.url, "GET", `/meshes/${mesh.meshId}/invites`, InvitesResponse, { auth: as(who) });
    await expect(list(member)).rejects.toMatchObject({ code: "forbidden" });
    const { invites } = await list(admin);
    const adminInvite = invites.find((i) => i.role === "admin" && i.createdBy === mesh.owner.memberId);
    const memberInvite = invites.find((i) => i.role === "member" && i.createdBy === admin.memberId);
    expect(adminInvite).toMatchObject({ createdByName: mesh.owner.displayName, uses: 0, maxUses: null, usable: true, revokedAt: null });
    expect(memberInvite?.createdByName).toBe("Adm");
    const revokeInv = (who: MeshConfig, id: string) =>
      outcome(brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites/${id}/revoke`, RevokeInviteResponse, { auth: as(who) }));
    expect(await revokeInv(member, memberInvite!.id)).toBe("forbidden");
    expect(await revokeInv(admin, adminInvite!.id)).toBe("forbidden");
    expect(await revokeInv(admin, memberInvite!.id)).toBe("ok");
    expect(await revokeInv(admin, memberInvite!.id)).toBe("not_found");
    const after = await list(mesh.owner);
    expect(after.invites.find((i) => i.id === memberInvite!.id)).toMatchObject({ usable: false, revokedAt: expect.any(Number) });
  });

  test("rejoin after revoke: the invite the member came in with is revoked with it, and says so", async () => {
    const mesh = await createMesh(b, `roles-rejoin-${backend}`);
    const team = await invite(mesh, "member", { maxUses: null });
    const eve = await join(mesh, team.token, "Eve");
    const res = await revoke(mesh, mesh.owner, eve.memberId);
    expect(res).toEqual({ revoked: [eve.memberId], invitesRevoked: [team.inviteId], disconnected: 0 });
    expect(await outcome(join(mesh, team.token, "Eve again"))).toBe("invite_revoked");
    // An invite already used up has nothing left to revoke.
    const once = await invite(mesh, "member", { maxUses: 1 });
    const fay = await join(mesh, once.token, "Fay");
    expect(await revoke(mesh, mesh.owner, fay.memberId)).toMatchObject({ invitesRevoked: [] });
  });

  test("mesh create's invite is for one join unless asked otherwise; so is the quick-start invite", async () => {
    const mesh = await createMesh(b, `roles-once-${backend}`);
    await join(mesh, mesh.inviteToken, "First");
    expect(await outcome(join(mesh, mesh.inviteToken, "Second"))).toBe("invite_used_up");
    const five = await brokerRequest(b.url, "POST", "/admin/meshes", CreateMeshResponse, {
      auth: operator(),
      body: { slug: `roles-five-${backend}`, ownerPubkey: generateSigningKeyPair().publicKey, ownerName: "o", inviteMaxUses: 5 },
    });
    expect(five.invite.maxUses).toBe(5);
    expect(b.quickStart?.invite?.maxUses).toBe(1);
    const quick = new URL(b.quickStart?.invite?.url ?? "http://x/join/none");
    const token = quick.pathname.split("/").pop() ?? "";
    const q = { ...mesh, meshId: "" };
    expect((await join(q, token, "Operator")).role).toBe("member");
    expect(await outcome(join(q, token, "Crowd"))).toBe("invite_used_up");
  });

  test("a name with a percent sign is decoded once: revoke by name works, junk escapes are 4xx", async () => {
    const mesh = await createMesh(b, `roles-pct-${backend}`);
    const m = await enrol(mesh, "member", "50% off");
    expect(await revoke(mesh, mesh.owner, "50% off")).toMatchObject({ revoked: [m.memberId] });
    for (const raw of ["50%", "%E0%A4%A", "%FF", "%00", "%ZZ"]) {
      const res = await fetch(`${b.url}/meshes/${mesh.meshId}/members/${raw}/revoke`, { method: "POST", headers: { authorization: `Bearer ${b.adminToken}` } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});
