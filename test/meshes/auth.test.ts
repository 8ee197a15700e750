import { afterEach, describe, expect, test } from "bun:test";
import { brokerRequest } from "../../src/client/http.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { signHello, type UnsignedHello } from "../../src/client/hello-sign.ts";
import { AdminMeshResponse, InviteResponse, JoinResponse, MembersResponse, RevokeResponse } from "../../src/meshes/api.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, closeClients, connect, createMesh, rawSocket, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

describe.each(backends())("authentication and invites on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "auth");
  });
  afterEach(() => closeClients());

  /** A hand-built hello so each field can be broken on purpose. */
  async function hello(
    overrides: Record<string, unknown> = {},
    opts: { memberKey?: string; sessionKey?: string; member?: Awaited<ReturnType<typeof addMember>> } = {},
  ) {
    const member = opts.member ?? (await addMember(b, mesh, `m${Math.random().toString(36).slice(2, 8)}`));
    const session = generateSigningKeyPair();
    const s = await rawSocket(b);
    const unsigned = {
      type: "hello",
      id: "h1",
      challenge: s.challenge,
      meshId: member.meshId,
      memberId: member.memberId,
      pubkey: member.pubkey,
      sessionPubkey: session.publicKey,
      timestamp: Date.now(),
      ...overrides,
    } as UnsignedHello;
    const frame = signHello(unsigned, opts.memberKey ?? member.secretKey, opts.sessionKey ?? session.secretKey);
    s.ws.send(JSON.stringify(frame));
    const reply = await s.next();
    return { reply, closed: s.closed, s, frame };
  }

  test("a correct hello is acknowledged with presence, names and a bearer token", async () => {
    const { reply } = await hello();
    expect(reply).toMatchObject({ type: "hello_ack", id: "h1", meshSlug: "auth" });
    expect(reply.presenceId).toStartWith("prs_");
    expect(reply.token.length).toBeGreaterThan(20);
  });

  test.each([
    ["bad member signature", () => ({ opts: { memberKey: generateSigningKeyPair().secretKey } }), "bad_member_signature"],
    ["bad session signature", () => ({ opts: { sessionKey: generateSigningKeyPair().secretKey } }), "bad_session_signature"],
    ["stale timestamp", () => ({ overrides: { timestamp: Date.now() - 5 * 60_000 } }), "stale_timestamp"],
    ["future timestamp", () => ({ overrides: { timestamp: Date.now() + 5 * 60_000 } }), "stale_timestamp"],
    ["unknown member", () => ({ overrides: { memberId: "mbr_doesnotexist" } }), "unknown_member"],
    ["unknown mesh", () => ({ overrides: { meshId: "mesh_doesnotexist" } }), "unknown_mesh"],
    ["someone else's public key", () => ({ overrides: { pubkey: generateSigningKeyPair().publicKey } }), "bad_member_signature"],
  ] as const)("%s is refused with its own error code and a closed socket", async (_name, make, code) => {
    const { overrides, opts } = { overrides: {}, opts: {}, ...make() } as { overrides: Record<string, unknown>; opts: Record<string, string> };
    const { reply, closed } = await hello(overrides, opts);
    expect(reply).toMatchObject({ type: "error", code, id: "h1" });
    expect(reply.message.length).toBeGreaterThan(10);
    expect(await closed).toBe(4001);
  });

  test("wrong mesh: a member of one mesh cannot hello into another", async () => {
    const other = await createMesh(b, `other-${backend}`);
    const member = await addMember(b, mesh, "Wanderer");
    const { reply } = await hello({ meshId: other.meshId }, { member });
    expect(reply).toMatchObject({ type: "error", code: "wrong_mesh" });
  });

  test("frames before hello, and a second hello, are refused", async () => {
    const s = await rawSocket(b);
    s.ws.send(JSON.stringify({ type: "list_peers", id: "x" }));
    expect(await s.next()).toMatchObject({ type: "error", code: "not_authenticated", id: "x" });
    const ok = await hello();
    expect(ok.reply.type).toBe("hello_ack");
    ok.s.ws.send(JSON.stringify({ ...ok.frame, id: "h2" }));
    expect(await ok.s.next()).toMatchObject({ type: "error", code: "already_authenticated", id: "h2" });
  });

  test("revoking a member disconnects its live sessions and it can never hello again", async () => {
    const member = await addMember(b, mesh, "Revokee");
    const c1 = await connect(member, { displayName: "Revokee-1" });
    const c2 = await connect(member, { displayName: "Revokee-2" });
    const fatal = Promise.all([c1.once("fatal"), c2.once("fatal")]);
    const res = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/members/${member.memberId}/revoke`, RevokeResponse, {
      auth: { kind: "admin", token: b.adminToken },
    });
    expect(res).toMatchObject({ revoked: [member.memberId], disconnected: 2 });
    expect(res.invitesRevoked).toHaveLength(1); // its own unlimited invite could have let it back in
    const [[e1], [e2]] = await fatal;
    expect(e1.code).toBe("member_revoked");
    expect(e2.code).toBe("member_revoked");
    const { reply } = await hello({}, { member });
    expect(reply).toMatchObject({ type: "error", code: "member_revoked" });
  });

  test("invites: expiry, max uses (atomic under concurrency), revocation, idempotent re-join", async () => {
    const admin = { kind: "admin" as const, token: b.adminToken };
    const join = (token: string, pubkey = generateSigningKeyPair().publicKey) =>
      brokerRequest(b.url, "POST", "/join", JoinResponse, { body: { token, pubkey, displayName: "Joiner" } });

    const limited = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: admin, body: { maxUses: 3 } });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => join(limited.token)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    for (const r of results.filter((r) => r.status === "rejected")) expect((r as PromiseRejectedResult).reason.code).toBe("invite_used_up");

    const once = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: admin, body: { maxUses: 1 } });
    const keys = generateSigningKeyPair();
    const first = await join(once.token, keys.publicKey);
    const again = await join(once.token, keys.publicKey); // same key: same member, no use spent
    expect(again).toMatchObject({ memberId: first.memberId, created: false });
    await expect(join(once.token)).rejects.toMatchObject({ code: "invite_used_up" });

    const expiring = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: admin, body: { expiresInSeconds: 1 } });
    await b.store.sql`UPDATE invite SET expires_at = ${Date.now() - 1} WHERE id = ${expiring.inviteId}`;
    await expect(join(expiring.token)).rejects.toMatchObject({ code: "invite_expired" });

    const revoked = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: admin, body: {} });
    await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites/${revoked.inviteId}/revoke`, JoinResponse.pick({}), { auth: admin });
    await expect(join(revoked.token)).rejects.toMatchObject({ code: "invite_revoked" });

    await expect(join("no-such-token")).rejects.toMatchObject({ code: "invite_not_found" });
    await expect(
      brokerRequest(b.url, "POST", "/join", JoinResponse, { body: { token: limited.token, pubkey: "short", displayName: "x" } }),
    ).rejects.toMatchObject({ code: "invalid_frame" });
  });

  test("admin routes need the admin token or an admin member's signature", async () => {
    const member = await addMember(b, mesh, "Plain");
    await expect(
      brokerRequest(b.url, "POST", "/admin/meshes", JoinResponse, { body: { slug: "x", ownerPubkey: member.pubkey, ownerName: "x" } }),
    ).rejects.toMatchObject({ code: "unauthorized" });
    await expect(brokerRequest(b.url, "POST", "/admin/meshes", JoinResponse, { auth: { kind: "admin", token: "wrong" }, body: {} })).rejects.toMatchObject({
      code: "unauthorized",
    });
    await expect(
      brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: { kind: "member", mesh: member }, body: {} }),
    ).rejects.toMatchObject({ code: "forbidden" });
    // The owner (admin role) may invite and list.
    const inv = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, {
      auth: { kind: "member", mesh: mesh.owner },
      body: { role: "admin" },
    });
    expect(inv.role).toBe("admin");
    const list = await brokerRequest(b.url, "GET", `/meshes/${mesh.meshId}/members`, MembersResponse, { auth: { kind: "member", mesh: member } });
    expect(list.members.some((m) => m.id === member.memberId)).toBe(true);
    // A forged member header without a valid signature is not trusted.
    const forged = { ...member, secretKey: generateSigningKeyPair().secretKey };
    await expect(
      brokerRequest(b.url, "GET", `/meshes/${mesh.meshId}/members`, MembersResponse, { auth: { kind: "member", mesh: forged } }),
    ).rejects.toMatchObject({ code: "bad_member_signature" });
    await expect(
      brokerRequest(b.url, "POST", "/admin/meshes", JoinResponse, {
        auth: { kind: "admin", token: b.adminToken },
        body: { slug: "auth", ownerPubkey: member.pubkey, ownerName: "dup" },
      }),
    ).rejects.toMatchObject({ code: "slug_taken" });
  });

  test("the operator looks a mesh up by slug with the admin token only; only the quick-start mesh's key is at the broker", async () => {
    const member = await addMember(b, mesh, "Snoop");
    const path = `/admin/meshes/${mesh.slug}`;
    await expect(brokerRequest(b.url, "GET", path, AdminMeshResponse)).rejects.toMatchObject({ code: "unauthorized", httpStatus: 401 });
    await expect(brokerRequest(b.url, "GET", path, AdminMeshResponse, { auth: { kind: "admin", token: "wrong" } })).rejects.toMatchObject({
      code: "unauthorized",
    });
    await expect(brokerRequest(b.url, "GET", path, AdminMeshResponse, { auth: { kind: "member", mesh: member } })).rejects.toMatchObject({
      code: "unauthorized",
    });
    const admin = { kind: "admin", token: b.adminToken } as const;
    expect(await brokerRequest(b.url, "GET", path, AdminMeshResponse, { auth: admin })).toEqual({ meshId: mesh.meshId, slug: mesh.slug, rootKey: null });
    const quick = await brokerRequest(b.url, "GET", "/admin/meshes/default", AdminMeshResponse, { auth: admin });
    expect(quick.rootKey).toBe(new URL(b.quickStart?.invite?.url as string).hash.slice(1));
    for (const slug of ["nope", "50%25%20off", "%E2%80%AE", "..%2F..%2Fetc", "x".repeat(300)]) {
      await expect(brokerRequest(b.url, "GET", `/admin/meshes/${slug}`, AdminMeshResponse, { auth: admin })).rejects.toMatchObject({
        code: "unknown_mesh",
        httpStatus: 404,
      });
    }
    expect((await fetch(`${b.url}/admin/meshes/50%off`, { headers: { authorization: `Bearer ${b.adminToken}` } })).status).toBeLessThan(500);
  });
});

describe("HTTP bodies", () => {
  test("oversized and malformed bodies get structured errors", async () => {
    await using b = await startTestBroker("sqlite", { maxFrameBytes: 4096 });
    const big = await fetch(`${b.url}/join`, { method: "POST", body: "x".repeat(10_000) });
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe("frame_too_large");
    const huge = await fetch(`${b.url}/join`, { method: "POST", body: "x".repeat(100_000) });
    expect(huge.status).toBe(413); // refused by the server before buffering
    const bad = await fetch(`${b.url}/join`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: "bad_json", message: "body is not valid JSON" } });
    // valid JSON that makes zod's own length check throw: still the client's mistake, a 400
    const hostile = await fetch(`${b.url}/join`, { method: "POST", body: '{"token":{"length":{"toString":1}},"pubkey":"x","displayName":"x"}' });
    expect(hostile.status).toBe(400);
    expect((await hostile.json()).error.code).toBe("invalid_frame");
    const missing = await fetch(`${b.url}/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("not_found");
  });
});
