import { afterEach, describe, expect, test } from "bun:test";
import type { MeshConfig } from "../../src/client/config.ts";
import { type DelegatedSession, delegateSession, revokeDelegations } from "../../src/client/delegate.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { delegationSigningString, generateSigningKeyPair, sign } from "../../src/crypto/keys.ts";
import { DelegationResponse, MAX_DELEGATION_MS } from "../../src/meshes/api.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { backends, PG_URL } from "../helpers/backends.ts";
import {
  addMember,
  closeClients,
  connect,
  createMesh,
  helloFrame,
  outcome,
  rawSocket,
  startTestBroker,
  type TestBroker,
  type TestMesh,
} from "../helpers/broker.ts";
import { delegatedHello } from "../helpers/delegation.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { messagingPeer, waitForPeer } from "../helpers/messaging.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";

const HOUR = 3600_000;

/** A delegation signed by `member` but never registered with the broker. */
function unregistered(member: MeshConfig, over: Partial<{ meshId: string; memberId: string }> = {}, forMs = HOUR): DelegatedSession {
  const session = generateSigningKeyPair();
  const expiresAt = Date.now() + forMs;
  const signature = sign(
    delegationSigningString({ meshId: over.meshId ?? member.meshId, memberId: over.memberId ?? member.memberId, sessionPubkey: session.publicKey, expiresAt }),
    member.secretKey,
  );
  return { session, expiresAt, signature };
}

describe.each(backends())("delegated session keys on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let alice: MeshConfig;
  let bob: MeshConfig;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "deleg");
    alice = await addMember(b, mesh, "Alice");
    bob = await addMember(b, mesh, "Bob");
  });
  afterEach(() => closeClients());

  test("a registered delegation lets the session key hello for the member; it shows in list_peers as the human", async () => {
    const d = await delegateSession(alice, 12 * HOUR);
    const { reply } = await delegatedHello(b, alice, d);
    expect(reply).toMatchObject({ type: "hello_ack", memberId: alice.memberId, displayName: "Alice (human)", memberDisplayName: "Alice" });
    const peer = await connect(bob);
    const list = await peer.request({ type: "list_peers" }, "peers_list");
    expect(list.peers.find((p: { name: string }) => p.name === "Alice (human)")).toMatchObject({ sessionPubkey: d.session.publicKey, memberName: "Alice" });
  });

  test("a signed but unregistered delegation is refused", async () => {
    const { reply, s } = await delegatedHello(b, alice, unregistered(alice));
    expect(reply).toMatchObject({ type: "error", code: "bad_delegation", id: "h1" });
    expect(await s.closed).toBe(4001);
  });

  test("a delegation for another mesh or another member is refused", async () => {
    const other = await createMesh(b, `deleg-other-${backend}`);
    const carol = await addMember(b, other, "Carol");
    // Carol's delegation, registered on her own mesh, presented for Alice, or into Alice's mesh.
    const dCarol = await delegateSession(carol, HOUR);
    expect((await delegatedHello(b, alice, dCarol)).reply).toMatchObject({ type: "error", code: "bad_delegation" });
    const intoOther = await delegatedHello(b, carol, dCarol, { extra: { meshId: mesh.meshId } });
    expect(intoOther.reply).toMatchObject({ type: "error", code: "wrong_mesh" });
    // Signed by Alice, but for another mesh id or for Bob's member id: the signature binds both.
    expect((await delegatedHello(b, alice, unregistered(alice, { meshId: other.meshId }))).reply).toMatchObject({ code: "bad_delegation" });
    const forBob = unregistered(alice, { memberId: bob.memberId });
    expect((await delegatedHello(b, bob, forBob)).reply).toMatchObject({ code: "bad_delegation" });
    // A registered delegation of Alice's cannot be stretched: another expiry breaks its signature.
    const d = await delegateSession(alice, HOUR);
    const stretched = await delegatedHello(b, alice, d, { delegation: { expiresAt: d.expiresAt + HOUR, signature: d.signature } });
    expect(stretched.reply).toMatchObject({ code: "bad_delegation" });
  });

  test("a hello with both a member signature and a delegation is refused", async () => {
    const d = await delegateSession(alice, HOUR);
    const s = await rawSocket(b);
    const frame = { ...helloFrame(alice, s.challenge, {}, d.session), id: "h1", delegation: { expiresAt: d.expiresAt, signature: d.signature } };
    s.ws.send(JSON.stringify(frame));
    expect(await s.next()).toMatchObject({ type: "error", code: "bad_delegation", id: "h1" });
  });

  test("--revoke ends the member's delegations: live delegated sessions close, new hellos are refused, CLI sessions stay", async () => {
    const dana = await addMember(b, mesh, "Dana");
    const d1 = await delegateSession(dana, HOUR);
    const d2 = await delegateSession(dana, HOUR);
    const dBob = await delegateSession(bob, HOUR);
    const live = await delegatedHello(b, dana, d1);
    expect(live.reply.type).toBe("hello_ack");
    const cli = await connect(dana);
    const res = await revokeDelegations(dana);
    expect(res).toEqual({ revoked: 2, disconnected: 1 });
    expect(await live.s.next((f) => f.type === "error")).toMatchObject({ code: "delegation_revoked" });
    expect(await live.s.closed).toBe(4003);
    for (const d of [d1, d2]) expect((await delegatedHello(b, dana, d)).reply).toMatchObject({ type: "error", code: "delegation_revoked" });
    // The member's own session and another member's delegation are untouched.
    expect((await cli.request({ type: "list_peers" }, "peers_list")).peers.length).toBeGreaterThan(0);
    expect((await delegatedHello(b, bob, dBob)).reply.type).toBe("hello_ack");
    // A fresh delegation works again.
    expect((await delegatedHello(b, dana, await delegateSession(dana, HOUR))).reply.type).toBe("hello_ack");
  });

  test("registration refuses a bad signature, a past or too long expiry, a reused key, strangers and other meshes", async () => {
    const path = `/meshes/${alice.meshId}/delegations`;
    const post = (body: unknown, who: MeshConfig = alice, p = path) =>
      outcome(brokerRequest(b.url, "POST", p, DelegationResponse, { body, auth: { kind: "member", mesh: who } }));
    const d = unregistered(alice);
    const body = { sessionPubkey: d.session.publicKey, expiresAt: d.expiresAt, signature: d.signature };
    expect(await post({ ...body, signature: unregistered(bob).signature })).toBe("bad_delegation");
    expect(await post(body, bob)).toBe("bad_delegation");
    const past = unregistered(alice, {}, -1000);
    expect(await post({ sessionPubkey: past.session.publicKey, expiresAt: past.expiresAt, signature: past.signature })).toBe("delegation_expired");
    const long = unregistered(alice, {}, MAX_DELEGATION_MS + HOUR);
    expect(await post({ sessionPubkey: long.session.publicKey, expiresAt: long.expiresAt, signature: long.signature })).toBe("invalid_argument");
    expect(await post({ ...body, expiresAt: "soon" })).toBe("invalid_frame");
    const other = await createMesh(b, `deleg-x-${backend}`);
    expect(await post(body, other.owner)).toBe("wrong_mesh");
    expect(await outcome(brokerRequest(b.url, "POST", path, DelegationResponse, { body }))).toBe("unauthorized");
    expect(await post(body)).toBe("ok");
    expect(await post(body)).toBe("invalid_argument");
    // Revoking needs the member's signature too.
    expect(await outcome(brokerRequest(b.url, "POST", `${path}/revoke`, DelegationResponse, { body: {} }))).toBe("unauthorized");
  });
});

describe.each(backends())("delegations over time and restarts on %s", (backend) => {
  test("past its expiry a delegation's hello is refused, and a live delegated session is ended by the sweep", async () => {
    const clock = new ManualClock();
    await using b = await startTestBroker(backend, { sweepIntervalMs: 50 }, undefined, { clock });
    const mesh = await createMesh(b, "deleg-time");
    const alice = await addMember(b, mesh, "Alice");
    const d = await delegateSession(alice, HOUR, clock.now());
    const live = await delegatedHello(b, alice, d, { now: clock.now() });
    expect(live.reply.type).toBe("hello_ack");
    clock.advance(HOUR + 1000);
    expect(await live.s.next((f) => f.type === "error")).toMatchObject({ code: "delegation_expired" });
    expect(await live.s.closed).toBe(4003);
    const late = await delegatedHello(b, alice, d, { now: clock.now() });
    expect(late.reply).toMatchObject({ type: "error", code: "delegation_expired" });
    closeClients();
  });

  test("delegations and their revocation are kept in the store: both survive a broker restart", async () => {
    // Disposing the first broker stops whichever successor runs then.
    await using first = await startTestBroker(backend);
    const mesh = await createMesh(first, "deleg-restart");
    const alice = await addMember(first, mesh, "Alice");
    const d = await delegateSession(alice, HOUR);
    let b = await first.restart();
    const moved = { ...alice, brokerUrl: b.url };
    expect((await delegatedHello(b, moved, d)).reply.type).toBe("hello_ack");
    expect(await revokeDelegations(moved)).toMatchObject({ revoked: 1 });
    b = await b.restart();
    expect((await delegatedHello(b, moved, d)).reply).toMatchObject({ type: "error", code: "delegation_revoked" });
    closeClients();
  });
});

describe.if(PG_URL !== undefined && PG_URL !== "")("delegations across broker nodes on one Postgres", () => {
  test("a delegation registered on one node lets its session in on another; --revoke there closes it across nodes", async () => {
    await using a = new ProcessBroker("postgres");
    await a.start();
    await using b = new ProcessBroker("postgres", { shareSchema: a.schema as string });
    await b.start();
    const mesh = await createMesh(a, "deleg-nodes");
    const alice = await addMember(a, mesh, "Alice");
    const d = await delegateSession(alice, HOUR);
    const live = await delegatedHello({ wsUrl: `${b.url.replace(/^http/, "ws")}/ws` }, alice, d);
    expect(live.reply.type).toBe("hello_ack");
    // Node A sees the session on node B (the mesh-wide peer view) before it revokes.
    const watcher = await messagingPeer(await addMember(a, mesh, "Watcher"));
    await waitForPeer(watcher, "Alice (human)");
    expect(await revokeDelegations(alice)).toEqual({ revoked: 1, disconnected: 1 });
    expect(await live.s.next((f) => f.type === "error")).toMatchObject({ code: "delegation_revoked" });
    expect(await live.s.closed).toBe(4003);
    closeClients();
  }, 60_000);
});
