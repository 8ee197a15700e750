import { afterEach, describe, expect, test } from "bun:test";
import { backends } from "../helpers/backends.ts";
import { addMember, closeClients, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { flush, messagingPeer, texts, type TestPeer } from "../helpers/messaging.ts";

describe.each(backends())("message routing on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let alice: TestPeer, bob: TestPeer, carol: TestPeer, dave: TestPeer;

  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "routing");
  });

  // A fresh set of sessions per test keeps each test's inbox to itself.
  const setup = async () => {
    alice = await messagingPeer(await addMember(b, mesh, "Alice"), { groups: [{ name: "frontend", role: "lead" }] });
    bob = await messagingPeer(await addMember(b, mesh, "Bob"), {
      groups: [
        { name: "frontend", role: null },
        { name: "backend", role: null },
      ],
    });
    carol = await messagingPeer(await addMember(b, mesh, "Carol"), { groups: [{ name: "backend", role: "lead" }] });
    dave = await messagingPeer(await addMember(b, mesh, "Dave"));
  };
  afterEach(() => closeClients());

  test("direct by name reaches only that peer, encrypted per session", async () => {
    await setup();
    const res = await alice.messenger.send("Bob", "hi bob", "now");
    expect(res.recipients.map((r) => r.name)).toEqual(["Bob"]);
    const m = await bob.next();
    expect(m).toMatchObject({ text: "hi bob", fromName: "Alice", kind: "direct", authenticated: true, priority: "now" });
    await flush(alice, carol, dave);
    expect(texts(carol)).toEqual([]);
    expect(texts(dave)).toEqual([]);
  });

  test("@group reaches its members except the sender", async () => {
    await setup();
    const res = await alice.messenger.send("@frontend", "fe news", "now");
    expect(res.recipients.map((r) => r.name)).toEqual(["Bob"]);
    expect((await bob.next()).text).toBe("fe news");
    await flush(bob, alice, carol);
    expect(texts(alice)).toEqual([]);
    expect(texts(carol)).toEqual([]);
  });

  test.each(["@all", "*"])("%s reaches everyone but the sender", async (target) => {
    await setup();
    const res = await carol.messenger.send(target, "standup", "now");
    expect(res.recipients.map((r) => r.name).sort()).toEqual(["Alice", "Bob", "Dave"]);
    for (const p of [alice, bob, dave]) expect(await p.next()).toMatchObject({ text: "standup", kind: "group", authenticated: true });
    await flush(alice, carol);
    expect(texts(carol)).toEqual([]);
  });

  test("an array with overlapping targets delivers once per session", async () => {
    await setup();
    const res = await alice.messenger.send(["Bob", "@frontend", "@backend", "Bob", "*"], "once", "now");
    expect(res.recipients.map((r) => r.name).sort()).toEqual(["Bob", "Carol", "Dave"]);
    await flush(alice, bob, carol, dave);
    expect(texts(bob)).toEqual(["once"]);
    expect(texts(carol)).toEqual(["once"]);
    expect(texts(dave)).toEqual(["once"]);
  });

  test("two sessions of one member are two peers", async () => {
    await setup();
    const erin = await addMember(b, mesh, "Erin");
    const e1 = await messagingPeer(erin, { displayName: "Erin-1" });
    const e2 = await messagingPeer(erin, { displayName: "Erin-2" });
    await e1.messenger.send("Erin-2", "hello me", "now");
    expect((await e2.next()).text).toBe("hello me");
    const peers = await e1.client.request({ type: "list_peers" }, "peers_list");
    expect(peers.peers.filter((p) => p.memberId === erin.memberId)).toHaveLength(2);
  });

  test("an unknown target fails the whole send, names the target, and stores nothing", async () => {
    await setup();
    const before = await b.store.sql`SELECT count(*) AS n FROM message`;
    await expect(alice.messenger.send(["Bob", "Zed"], "nope")).rejects.toMatchObject({ code: "unknown_target", message: expect.stringContaining('"Zed"') });
    await expect(alice.messenger.send("@nobody", "nope")).rejects.toMatchObject({ code: "unknown_target", message: expect.stringContaining("@nobody") });
    const after = await b.store.sql`SELECT count(*) AS n FROM message`;
    expect(Number(after[0].n)).toBe(Number(before[0].n));
    await flush(alice, bob);
    expect(texts(bob)).toEqual([]);
  });

  test("@all with nobody else connected is an unknown target", async () => {
    const solo = await createMesh(b, `solo-${backend}`);
    const s = await messagingPeer(await addMember(b, solo, "Solo"));
    await expect(s.messenger.send("@all", "anyone?")).rejects.toMatchObject({ code: "unknown_target" });
  });

  test("peers of another mesh are invisible and unreachable", async () => {
    await setup();
    const other = await createMesh(b, `other-${backend}`);
    const mallory = await messagingPeer(await addMember(b, other, "Mallory"));
    await expect(mallory.messenger.send("Bob", "psst")).rejects.toMatchObject({ code: "unknown_target" });
    const res = await mallory.messenger.send("Mallory", "only me", "now").catch((e) => e);
    expect(res.recipients?.map((r: { name: string }) => r.name)).toEqual(["Mallory"]);
    const peers = await mallory.client.request({ type: "list_peers" }, "peers_list");
    expect(peers.peers.map((p) => p.name)).toEqual(["Mallory"]);
    await expect(mallory.messenger.send("*", "hello world")).rejects.toMatchObject({ code: "unknown_target" });
    await flush(alice, bob);
    expect(texts(bob)).toEqual([]);
  });
});
