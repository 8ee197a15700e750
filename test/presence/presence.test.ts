import { describe, expect, test } from "bun:test";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, connect, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { inProcessSession } from "../helpers/in-process.ts";
import { waitUntil } from "../helpers/wait.ts";

describe.each(backends())("presence and groups on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "presence");
  });

  test("peers_list has the spec's shape plus session key and member id; groups from hello and at runtime", async () => {
    const aliceM = await addMember(b, mesh, "Alice");
    const alice = await connect(aliceM, {
      role: "dev",
      groups: [
        { name: "frontend", role: "lead" },
        { name: "reviewers", role: null },
      ],
    });
    const bob = await connect(await addMember(b, mesh, "Bob"));
    await alice.request({ type: "set_summary", summary: "Implementing auth UI" });
    await alice.request({ type: "set_status", status: "working" });
    const list = await bob.request({ type: "list_peers" }, "peers_list");
    const a = list.peers.find((p) => p.name === "Alice");
    expect(a).toEqual({
      name: "Alice",
      status: "working",
      role: "dev",
      groups: [
        { name: "frontend", role: "lead" },
        { name: "reviewers", role: null },
      ],
      summary: "Implementing auth UI",
      sessionPubkey: alice.sessionPubkey,
      memberId: aliceM.memberId,
      memberName: "Alice",
      presenceId: alice.ack?.presenceId as string,
      connectedAt: expect.any(Number),
      self: false,
    });
    expect(list.peers.find((p) => p.name === "Bob")?.self).toBe(true);

    await bob.request({ type: "join_group", name: "reviewers", role: "lead" });
    await alice.request({ type: "join_group", name: "reviewers", role: "observer" }); // step back
    await alice.request({ type: "leave_group", name: "frontend" });
    const reviewers = await bob.request({ type: "list_peers", group: "reviewers" }, "peers_list");
    expect(reviewers.peers.map((p) => [p.name, p.groups.find((g) => g.name === "reviewers")?.role])).toEqual([
      ["Alice", "observer"],
      ["Bob", "lead"],
    ]);
    expect((await bob.request({ type: "list_peers", group: "frontend" }, "peers_list")).peers).toEqual([]);
    await expect(bob.request({ type: "join_group", name: "bad name!" })).rejects.toMatchObject({ code: "invalid_frame" });
    await expect(bob.request({ type: "set_status", status: "sleeping" as never })).rejects.toMatchObject({ code: "invalid_frame" });
  });

  test("groups in hello accept the `frontend:lead,reviewers` form", async () => {
    const s = await inProcessSession(b, await addMember(b, mesh, "Spec"), { groups: "frontend:lead, reviewers" });
    await s.send(JSON.stringify({ type: "list_peers", id: "l", group: "reviewers" }));
    const me = s.frames.find((f) => f.id === "l").peers.find((p: any) => p.name === "Spec");
    expect(me.groups).toEqual([
      { name: "frontend", role: "lead" },
      { name: "reviewers", role: null },
    ]);
    await s.close();
  });

  test("stale sweep: three missed pings and the session is gone; a pong keeps it", async () => {
    const { transport: t, conn, sessionPubkey } = await inProcessSession(b, await addMember(b, mesh, "Sleepy"));
    const online = () => b.broker.peersOf(mesh.meshId).some((p) => p.sessionPubkey === sessionPubkey);
    expect(online()).toBe(true);
    for (let i = 0; i < 3; i++) await b.broker.pingSweep();
    b.broker.pong(conn); // answered the third ping
    for (let i = 0; i < 3; i++) await b.broker.pingSweep();
    expect(online()).toBe(true);
    expect(t.pings).toBe(6);
    await b.broker.pingSweep(); // fourth sweep since the pong sees three missed pings
    expect(t.closedWith()).toBe(4008);
    expect(online()).toBe(false);
    const [row] = await b.store.sql`SELECT disconnected_at FROM presence WHERE session_pubkey = ${sessionPubkey}`;
    expect(Number(row.disconnected_at)).toBeGreaterThan(0);
  });

  test("reconnecting with the same session key replaces the old socket and keeps state", async () => {
    const m = await addMember(b, mesh, "Phoenix");
    const session = generateSigningKeyPair();
    const c = await connect(m, { session, groups: [{ name: "ops", role: "lead" }] });
    await c.request({ type: "set_status", status: "dnd" });
    await c.request({ type: "set_summary", summary: "on call" });
    await c.request({ type: "join_group", name: "sre" });
    const back = c.once("connected");
    c.dropConnection();
    const [ack, reconnect] = await back;
    expect(reconnect).toBe(true);
    expect(ack.presenceId).not.toBe("");
    const other = await connect(await addMember(b, mesh, "Watcher"));
    const me = (await other.request({ type: "list_peers" }, "peers_list")).peers.find((p) => p.name === "Phoenix");
    expect(me).toMatchObject({
      status: "dnd",
      summary: "on call",
      groups: [
        { name: "ops", role: "lead" },
        { name: "sre", role: null },
      ],
    });
    expect(b.broker.peersOf(mesh.meshId).filter((p) => p.sessionPubkey === session.publicKey)).toHaveLength(1);
  });
});

describe("the session bearer token", () => {
  test("identifies its live session over HTTP and dies with it", async () => {
    await using b = await startTestBroker("sqlite");
    const mesh = await createMesh(b, "bearer");
    const m = await addMember(b, mesh, "Token");
    const c = await connect(m, { reconnect: false });
    const token = c.ack?.token as string;
    const who = await fetch(`${b.url}/session`, { headers: { authorization: `Bearer ${token}` } });
    expect(await who.json()).toMatchObject({ meshId: mesh.meshId, memberId: m.memberId, presenceId: c.ack?.presenceId, sessionPubkey: c.sessionPubkey });
    for (const auth of [undefined, "Bearer nope", `Basic ${token}`]) {
      const r = await fetch(`${b.url}/session`, { headers: auth ? { authorization: auth } : {} });
      expect(r.status).toBe(401);
      expect((await r.json()).error.code).toBe("unauthorized");
    }
    const gone = b.broker.peersOf(mesh.meshId).length;
    c.close();
    await waitUntil("the broker to see the close", () => (b.broker.peersOf(mesh.meshId).length < gone ? true : undefined));
    expect((await fetch(`${b.url}/session`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });
});

describe("real WebSocket pings", () => {
  test("a live client answers the broker's pings, so the stale sweep never drops it", async () => {
    await using b = await startTestBroker("sqlite");
    const mesh = await createMesh(b, "pings");
    const c = await connect(await addMember(b, mesh, "Alive"));
    const conn = b.broker.session(c.sessionPubkey)?.conn;
    if (!conn) throw new Error("session not registered");
    for (let i = 0; i < 6; i++) {
      await b.broker.pingSweep(); // more sweeps than maxMissedPings: only pongs keep it alive
      await waitUntil("the client's pong", () => (conn.missedPings === 0 ? true : undefined), 5000);
    }
    expect(c.connected).toBe(true);
    expect(b.broker.peersOf(mesh.meshId)).toHaveLength(1);
  });
});
